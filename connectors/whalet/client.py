"""The Whalet client: a cached bearer token, and the currency and platform balances.

The token is fetched with the client id and secret key, cached until shortly before it
expires, and fetched again once when a call answers `TokenInvalid` (a token revoked early).
The secret key and the token travel only in request bodies and headers, which the HTTP layer
never logs; both are the HTTP client's secrets (every token as it is fetched), so whatever
Whalet says is redacted of them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.http import OBJECT, JsonHttpClient, ProviderError, page_of
from connectors.whalet.profile import PROFILE, WhaletProfile


@dataclass(frozen=True)
class WhaletCredentials:
    partner_id: str
    client_id: str
    secret_key: str = field(repr=False)
    user_ids: tuple[str, ...] = ()


@dataclass
class _Token:
    value: str = field(repr=False)
    token_type: str
    renew_at: float


class WhaletClient:
    def __init__(
        self,
        http: JsonHttpClient,
        creds: WhaletCredentials,
        profile: WhaletProfile = PROFILE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.creds = creds
        self.profile = profile
        self._clock = clock
        self._token: _Token | None = None
        self.tokens_fetched = 0
        http.secrets.add(creds.secret_key)

    @property
    def label(self) -> str:
        return f"Whalet partner {self.creds.partner_id}"

    def _headers(self, token: _Token | None) -> Callable[[], Mapping[str, str]]:
        def headers() -> dict[str, str]:
            out = {
                "partnerId": self.creds.partner_id,
                "requestNo": uuid.uuid4().hex,
                "timestamp": str(int(self._clock() * 1000)),
            }
            if token is not None:
                out["Authorization"] = f"{token.token_type} {token.value}"
            return out

        return headers

    def token(self) -> _Token:
        """The cached token, or a new one when it is missing or about to expire."""
        if self._token is not None and self._clock() < self._token.renew_at:
            return self._token
        body = {"clientId": self.creds.client_id, "secretKey": self.creds.secret_key}
        data = self.http.post(
            self.profile.token_path,
            body,
            context=self.label,
            headers=self._headers(None),
            expect=OBJECT,
        )
        try:
            value, expire = str(data["token"]), float(data["expire"])
            token_type = str(data.get("tokenType") or "Bearer")
        except (KeyError, TypeError, ValueError):
            raise ProviderError(
                f"{self.label}: POST {self.profile.token_path}: malformed response: "
                "no `token` or no number `expire`"
            ) from None
        self.http.secrets.add(value)
        margin = max(self.profile.token_renew_min_seconds, expire * self.profile.token_renew_share)
        self._token = _Token(value, token_type, self._clock() + expire - margin)
        self.tokens_fetched += 1
        return self._token

    def post(self, path: str, body: Mapping[str, Any], detail: str = "") -> Any:
        """A business call with the token, answering `data.records` (a list); on
        `TokenInvalid` a new token is tried once."""

        def call() -> Any:
            return self.http.post(
                path,
                body,
                context=self.label,
                headers=self._headers(self.token()),
                expect=page_of("records", None),
                detail=detail,
            )

        try:
            return call()
        except ProviderError as exc:
            if exc.code != self.profile.token_invalid:
                raise
        self._token = None
        return call()

    def currency_balances(self, user_id: str, fund_source: str) -> list[Any]:
        """One user's balance records for one fund source, every currency (a record that is
        not an object is passed on, to be quarantined)."""
        body = {"userId": user_id, "currency": "", "fundSource": fund_source}
        detail = f"userId={user_id}, fundSource={fund_source}"
        return list(self.post(self.profile.currency_balance_path, body, detail)["records"])

    def platform_balances(self, fund_source: str) -> list[Any]:
        """The platform's balances for one fund source, summed over its users by Whalet."""
        path, detail = self.profile.platform_balance_path, f"fundSource={fund_source}"
        return list(self.post(path, {"fundSource": fund_source}, detail)["records"])
