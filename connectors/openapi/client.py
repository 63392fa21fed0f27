"""The OPEN-API client: every endpoint of providers.md §1.3-1.6, for one or several customers.

Credentials travel in the body of every request (the provider's design); they never appear in
messages, logs or anything landed (every key is one of the HTTP client's secrets, redacted from
whatever the provider says). A list is fetched whole and checked before anyone sees it: as
many distinct keys as the API's `total`, the same `total` on every page. A time window that
fails the check is fetched again, then in slices (connectors.paging.fetch_window); one whose
smallest slice fails every attempt raises `connectors.paging.WindowIncomplete`. An answer of
the wrong shape (`data` not an object, no list, no `total`) is a ProviderError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.http import OBJECT, Expect, JsonHttpClient, page_of
from connectors.limits import each
from connectors.openapi.profile import PROFILE, ListEndpoint, OpenApiProfile
from connectors.openapi.rows import scrub_card
from connectors.paging import Bracketed, Page, Slicing, bracket, fetch_whole, fetch_window


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
    rows: list[Any]  # objects, and any row that is not one (to be quarantined)
    total: int
    attempts: int
    filters: dict[str, Any]
    slices: int = 1


class OpenApiClient:
    def __init__(
        self,
        http: JsonHttpClient,
        profile: OpenApiProfile = PROFILE,
        page_size: int = 500,
        window_attempts: int = 2,
        min_slice_seconds: int = 60,
        credentials: Sequence[Credentials] = (),
    ) -> None:
        if not 1 <= page_size <= profile.max_page_size:
            raise ValueError(f"page_size must be between 1 and {profile.max_page_size}")
        self.http = http
        self.profile = profile
        self.page_size = page_size
        self.window_attempts = max(1, window_attempts)
        self.slicing = Slicing(self.window_attempts, timedelta(seconds=min_slice_seconds))
        # Every configured key, before any request: one customer's answer may quote another's.
        http.secrets.add(*(c.key for c in credentials))

    def _post(
        self,
        creds: Credentials,
        path: str,
        expect: Expect = OBJECT,
        detail: str = "",
        **params: Any,
    ) -> Any:
        self.http.secrets.add(creds.key)
        return self.http.post(
            path, {**creds.body(), **params}, context=creds.label, expect=expect, detail=detail
        )

    def _page(
        self, creds: Credentials, endpoint: ListEndpoint, page_no: int, filters: Mapping[str, Any]
    ) -> Page:
        where = ", ".join([*(f"{k}={v}" for k, v in filters.items()), f"page_no={page_no}"])
        data = self._post(
            creds,
            endpoint.path,
            page_of(endpoint.list_key),
            where,
            page_no=page_no,
            page_size=self.page_size,
            **filters,
        )
        return Page(rows=list(data[endpoint.list_key]), total=data["total"])

    def fetch_all(self, creds: Credentials, entity: str, **filters: Any) -> Fetched:
        """Every row of a list endpoint for these filters, checked whole (connectors.paging)."""
        endpoint = self.profile.endpoint(entity)
        where = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filters"
        whole = fetch_whole(
            lambda page_no: self._page(creds, endpoint, page_no, filters),
            self.page_size,
            endpoint.key_fields,
            self.window_attempts,
            f"{creds.label}: {entity} ({where})",
        )
        return self._fetched(creds, entity, whole.rows, whole.total, whole.attempts, filters)

    def _fetched(
        self,
        creds: Credentials,
        entity: str,
        rows: list[Any],
        total: int,
        attempts: int,
        filters: dict[str, Any],
        slices: int = 1,
    ) -> Fetched:
        if entity == "cards":
            rows = [scrub_card(r) if isinstance(r, Mapping) else r for r in rows]
        return Fetched(entity, creds.customer_id, rows, total, attempts, filters, slices)

    def window(self, creds: Credentials, entity: str, start: str, end: str) -> Fetched:
        """One time window [start, end) of a windowed entity (transactions, trades, orders),
        read whole, in time slices if it keeps shifting (connectors.paging.fetch_window)."""
        endpoint = self.profile.endpoint(entity)
        if not endpoint.time_filter:
            raise ValueError(f"{entity} has no time filter")
        fmt = self.profile.datetime_format

        def fetch(lo: datetime, hi: datetime, page_no: int) -> Page:
            slice_filters = {"start_time": lo.strftime(fmt), "end_time": hi.strftime(fmt)}
            return self._page(creds, endpoint, page_no, slice_filters)

        whole = fetch_window(
            fetch,
            datetime.strptime(start, fmt),
            datetime.strptime(end, fmt),
            self.page_size,
            endpoint.key_fields,
            self.slicing,
            f"{creds.label}: {entity} (start_time={start}, end_time={end})",
            fmt,
        )
        filters = {"start_time": start, "end_time": end}
        return self._fetched(
            creds, entity, whole.rows, whole.total, whole.attempts, filters, whole.slices
        )

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
        path = self.profile.exchange_rate_path
        data = self._post(creds, path, from_currency=from_ccy, to_currency=to_ccy)
        return dict(data)

    def exchange_rates(self, creds: Credentials, currencies: Sequence[str]) -> list[dict[str, Any]]:
        """The current rate for every ordered pair of the given currencies, read at once
        within the provider's limits, in the pairs' order."""
        pairs = [(a, b) for a in currencies for b in currencies if a != b]
        return each(lambda pair: self.exchange_rate(creds, *pair), pairs, self.http.concurrency)

    def wallet_detail(self, creds: Credentials, wallet_sn: str) -> dict[str, Any]:
        return dict(self._post(creds, self.profile.wallet_detail_path, wallet_sn=wallet_sn))

    def transaction_bill(self, creds: Credentials, transaction_id: str) -> list[dict[str, Any]]:
        path = self.profile.transaction_bill_path
        data = self._post(
            creds, path, page_of("transaction_list", None), transaction_id=transaction_id
        )
        return list(data["transaction_list"])

    def card_detail(self, creds: Credentials, card_id: str) -> dict[str, Any]:
        return scrub_card(self._post(creds, self.profile.card_detail_path, card_id=card_id))

    def order_detail(self, creds: Credentials, order_id: str) -> dict[str, Any]:
        return dict(self._post(creds, self.profile.order_detail_path, order_id=order_id))
