"""The OPEN-API client: every endpoint of providers.md §1.3-1.6, for one or several customers.

Credentials travel in the body of every request (the provider's design); they never appear in
messages, logs or anything landed. A list is fetched whole and checked before anyone sees it:
as many distinct keys as the API's `total`, the same `total` on every page. A window that
fails the check is fetched again; one that fails every attempt raises
`connectors.paging.WindowIncomplete`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.http import JsonHttpClient
from connectors.openapi.profile import PROFILE, OpenApiProfile
from connectors.openapi.rows import scrub_card
from connectors.paging import Bracketed, Page, bracket, fetch_whole


@dataclass(frozen=True)
class Credentials:
    """One customer's credential set. The key is kept out of repr and messages."""

    customer_id: int
    app_id: int
    key: str = field(repr=False)

    @property
    def label(self) -> str:
        return f"OPEN-API customer {self.customer_id}"

    def body(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "app_id": self.app_id, "key": self.key}

    @classmethod
    def parse_many(cls, text: str) -> list[Credentials]:
        """`customer_id:app_id:key,...` as in OPENAPI_CUSTOMERS."""
        out = []
        for i, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
            parts = item.split(":")
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
                raise ValueError(
                    f"OPENAPI_CUSTOMERS entry {i + 1} must look like customer_id:app_id:key"
                )
            out.append(cls(int(parts[0]), int(parts[1]), parts[2]))
        return out


@dataclass
class Fetched:
    """Every row of one list request (a window or a snapshot), checked complete."""

    entity: str
    customer_id: int
    rows: list[dict[str, Any]]
    total: int
    attempts: int
    filters: dict[str, Any]


class OpenApiClient:
    def __init__(
        self,
        http: JsonHttpClient,
        profile: OpenApiProfile = PROFILE,
        page_size: int = 500,
        window_attempts: int = 2,
    ) -> None:
        if not 1 <= page_size <= profile.max_page_size:
            raise ValueError(f"page_size must be between 1 and {profile.max_page_size}")
        self.http = http
        self.profile = profile
        self.page_size = page_size
        self.window_attempts = max(1, window_attempts)

    def _post(self, creds: Credentials, path: str, **params: Any) -> Any:
        return self.http.post(path, {**creds.body(), **params}, context=creds.label)

    def fetch_all(self, creds: Credentials, entity: str, **filters: Any) -> Fetched:
        """Every row of a list endpoint for these filters, checked whole (connectors.paging)."""
        endpoint = self.profile.endpoint(entity)

        def fetch(page_no: int) -> Page:
            data = self._post(
                creds, endpoint.path, page_no=page_no, page_size=self.page_size, **filters
            )
            rows = data.get(endpoint.list_key) or []
            return Page(rows=list(rows), total=int(data["total"]))

        where = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filters"
        whole = fetch_whole(
            fetch,
            self.page_size,
            endpoint.key_fields,
            self.window_attempts,
            f"{creds.label}: {entity} ({where})",
        )
        rows = [scrub_card(r) for r in whole.rows] if entity == "cards" else whole.rows
        return Fetched(entity, creds.customer_id, rows, whole.total, whole.attempts, filters)

    def window(self, creds: Credentials, entity: str, start: str, end: str) -> Fetched:
        """One time window [start, end) of a windowed entity (transactions, trades, orders)."""
        if not self.profile.endpoint(entity).time_filter:
            raise ValueError(f"{entity} has no time filter")
        return self.fetch_all(creds, entity, start_time=start, end_time=end)

    def read_bracketed(
        self, creds: Credentials, entity: str, tails: Sequence[str], tail_from: str | None
    ) -> Bracketed:
        """A snapshot entity bracketed by two reads of each tail entity since `tail_from`.

        Without `tail_from` (no window landed yet) there is nothing to compare with.
        """
        if tail_from is None:
            return Bracketed(self.fetch_all(creds, entity).rows, {}, False, 1)
        rows, after, consistent, attempts = bracket(
            lambda: self.fetch_all(creds, entity).rows,
            lambda: {t: self.fetch_all(creds, t, start_time=tail_from).rows for t in tails},
            {t: self.profile.endpoint(t).key_fields for t in tails},
            self.window_attempts,
        )
        return Bracketed(rows, after, consistent, attempts)

    def exchange_rate(self, creds: Credentials, from_ccy: str, to_ccy: str) -> dict[str, Any]:
        data = self._post(
            creds, self.profile.exchange_rate_path, from_currency=from_ccy, to_currency=to_ccy
        )
        return dict(data)

    def exchange_rates(self, creds: Credentials, currencies: Sequence[str]) -> list[dict[str, Any]]:
        """The current rate for every ordered pair of the given currencies."""
        return [self.exchange_rate(creds, a, b) for a in currencies for b in currencies if a != b]

    def wallet_detail(self, creds: Credentials, wallet_sn: str) -> dict[str, Any]:
        return dict(self._post(creds, self.profile.wallet_detail_path, wallet_sn=wallet_sn))

    def transaction_bill(self, creds: Credentials, transaction_id: str) -> list[dict[str, Any]]:
        data = self._post(creds, self.profile.transaction_bill_path, transaction_id=transaction_id)
        return list(data.get("transaction_list") or [])

    def card_detail(self, creds: Credentials, card_id: str) -> dict[str, Any]:
        return scrub_card(self._post(creds, self.profile.card_detail_path, card_id=card_id))

    def order_detail(self, creds: Credentials, order_id: str) -> dict[str, Any]:
        return dict(self._post(creds, self.profile.order_detail_path, order_id=order_id))
