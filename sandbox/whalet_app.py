"""The Whalet sandbox as an ASGI app (providers.md §3.1).

Every call is `POST {base}/v1/...` with headers `partnerId`, `requestNo` and `timestamp`;
business calls add `Authorization: Bearer <token>` from `POST {base}/v1/auth/token`. The
envelope is `{"code": "SUCCESS", "message", "data"}`; errors are HTTP 200 with a code
(`PARAMETER_ERROR`, `UNAUTHORIZED`, `TokenInvalid`, `INTERNAL_ERROR`, `TOO_MANY_REQUESTS`)
and no `data`. Checks run in this order: `requestNo`/`timestamp` present, `partnerId`
known, then the client credentials (token call) or the token (business calls), then the body.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from sandbox.asgi import (
    AsgiApp,
    Response,
    Scope,
    header,
    json_response,
    server_error,
    too_many_requests,
    truncate,
)
from sandbox.config import FaultConfig
from sandbox.faults import FaultPlan
from sandbox.whalet import FUND_SOURCES, WhaletWorld
from sandbox.world import World

TOKEN_PATH = "/v1/auth/token"
TOKEN_TYPE = "Bearer"


class WhaletParamError(ValueError):
    """A missing or invalid header or body field (code PARAMETER_ERROR)."""


class WhaletApp(AsgiApp):
    """ASGI app serving a world's Whalet balances. Tokens expire by `clock` (wall seconds)."""

    def __init__(
        self,
        world: World,
        faults: FaultConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.base_path = ""
        self.faults = FaultPlan(faults if faults is not None else world.cfg.faults, world.cfg.seed)
        self.clock = clock
        self.tokens: dict[str, float] = {}  # token -> expiry, wall seconds
        self.tokens_issued = 0
        self.routes: dict[str, Callable[[WhaletWorld, dict[str, Any]], dict[str, Any]]] = {
            "/v1/wallet/queryCurrencyBalance": query_currency_balance,
            "/v1/wallet/queryPlatformBalance": query_platform_balance,
        }

    def revoke_tokens(self) -> None:
        """Make every issued token invalid, as a provider-side rotation would."""
        self.tokens.clear()

    async def respond(self, scope: Scope, body: bytes) -> Response:
        method, path = scope["method"], scope["path"]
        handler = self.routes.get(path)
        if method != "POST" or (handler is None and path != TOKEN_PATH):
            return json_response(404, {"code": "NOT_FOUND", "message": f"no such endpoint: {path}"})
        fault, detail = self.faults.draw(False)  # nothing is paged, so no page shift
        if fault == "rate_limited_429":
            return too_many_requests(self.faults.cfg.retry_after_seconds)
        if fault == "server_error_5xx":
            return server_error(detail)
        if fault == "busy_5000":
            return _error("INTERNAL_ERROR", "system busy, please retry")
        if fault == "throttled_1003":
            return _error("TOO_MANY_REQUESTS", "request too frequent")
        if fault == "slow":
            await asyncio.sleep(self.faults.cfg.slow_seconds)
        whalet = self.world.whalet
        try:
            for name in ("requestNo", "timestamp"):
                if not header(scope, name):
                    raise WhaletParamError(f"header {name} is required")
            if not str(header(scope, "timestamp")).isdigit():
                raise WhaletParamError("header timestamp must be milliseconds since the epoch")
            if header(scope, "partnerId") != whalet.partner_id:
                return _error("UNAUTHORIZED", "unknown partnerId")
            params = _body(body)
            if path == TOKEN_PATH:
                data = self._issue(whalet, params)
                if data is None:
                    return _error("UNAUTHORIZED", "invalid clientId or secretKey")
            elif not self._authorized(header(scope, "Authorization")):
                return _error("TokenInvalid", "token is invalid or expired")
            else:
                assert handler is not None
                data = self.faults.malform(fault, handler(whalet, params), "records")
        except WhaletParamError as exc:
            return _error("PARAMETER_ERROR", str(exc))
        response = json_response(200, {"code": "SUCCESS", "message": "success", "data": data})
        return truncate(response) if fault == "truncated" else response

    def _issue(self, whalet: WhaletWorld, params: dict[str, Any]) -> dict[str, Any] | None:
        secret = str(params.get("secretKey", "")).encode()
        if params.get("clientId") != whalet.client_id or not secrets.compare_digest(
            secret, whalet.secret_key.encode()
        ):
            return None
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + whalet.token_ttl_seconds
        self.tokens_issued += 1
        return {"token": token, "expire": whalet.token_ttl_seconds, "tokenType": TOKEN_TYPE}

    def _authorized(self, authorization: str | None) -> bool:
        kind, _, token = (authorization or "").partition(" ")
        expiry = self.tokens.get(token) if kind == TOKEN_TYPE else None
        if expiry is None:
            return False
        if self.clock() >= expiry:
            del self.tokens[token]
            return False
        return True


def query_currency_balance(whalet: WhaletWorld, params: dict[str, Any]) -> dict[str, Any]:
    user = _field(params, "userId")
    if user is None or user not in whalet.user_ids:
        raise WhaletParamError("userId is required and must be a user of this partner")
    fund = _field(params, "fundSource")
    if fund not in FUND_SOURCES:
        raise WhaletParamError(f"fundSource must be one of {', '.join(FUND_SOURCES)}")
    return {"records": whalet.user_records(user, fund, _field(params, "currency"))}


def query_platform_balance(whalet: WhaletWorld, params: dict[str, Any]) -> dict[str, Any]:
    fund = _field(params, "fundSource")
    if fund is not None and fund not in FUND_SOURCES:
        raise WhaletParamError(f"fundSource must be one of {', '.join(FUND_SOURCES)}")
    return {"records": whalet.platform_records(fund)}


def _body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise WhaletParamError("body must be a JSON object")
    return value


def _field(params: dict[str, Any], name: str) -> str | None:
    """An optional string field; absent, null and empty are all None."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise WhaletParamError(f"{name} must be a string")
    return value


def _error(code: str, message: str) -> Response:
    return json_response(200, {"code": code, "message": message})
