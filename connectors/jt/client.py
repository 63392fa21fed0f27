"""The JT wallet client: users with their balances and totals, and balance records by window.

Every request is `{"appId", "param", "sign"}`: `param` is serialised once, signed over those
exact bytes, and sent as that same string (re-serialising it after signing would break the
signature). A body is rebuilt for every attempt, so a retried request carries a fresh
timestamp. Lists are read whole and checked like every provider's (connectors.paging); a
records window that keeps shifting is read in time slices. The private key's material is one
of the HTTP client's secrets: whatever JT says is redacted of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.http import JsonHttpClient, page_of
from connectors.jt.profile import PROFILE, JtProfile
from connectors.jt.signing import Signer
from connectors.paging import (
    Bracketed,
    Page,
    Slicing,
    Whole,
    WindowIncomplete,
    bracket,
    fetch_whole,
    fetch_window,
)


@dataclass
class JtUsers:
    """Every user of the merchant, and the totals JT reports over all of them."""

    rows: list[Any]
    totals: dict[str, Any]


class JtClient:
    def __init__(
        self,
        http: JsonHttpClient,
        app_id: str,
        signer: Signer,
        profile: JtProfile = PROFILE,
        page_size: int = PROFILE.max_page_size,
        window_attempts: int = 2,
        clock: Callable[[], float] = time.time,
        min_slice_seconds: int = 60,
    ) -> None:
        if not 1 <= page_size <= profile.max_page_size:
            raise ValueError(f"page_size must be between 1 and {profile.max_page_size}")
        self.http = http
        self.app_id = app_id
        self.profile = profile
        self.page_size = page_size
        self.window_attempts = max(1, window_attempts)
        self.slicing = Slicing(self.window_attempts, timedelta(seconds=min_slice_seconds))
        self._signer = signer
        self._clock = clock
        http.secrets.add(*signer.secret_texts())

    @property
    def label(self) -> str:
        return f"JT app {self.app_id}"

    def param(self, params: Mapping[str, Any]) -> str:
        """The `param` string: the request's parameters with a fresh millisecond timestamp."""
        stamped = {"timestamp": int(self._clock() * 1000), **params}
        return json.dumps(stamped, separators=(",", ":"), ensure_ascii=False)

    def body(self, params: Mapping[str, Any]) -> dict[str, str]:
        param = self.param(params)
        return {"appId": self.app_id, "param": param, "sign": self._signer.sign(param)}

    def post(self, path: str, params: Mapping[str, Any]) -> Any:
        return self.http.post(path, lambda: self.body(params), context=self.label)

    def _page(self, path: str, params: Mapping[str, Any], page_no: int) -> dict[str, Any]:
        """One page's data object, checked to hold a `list` and a whole-number `total`."""
        where = ", ".join([*(f"{k}={v}" for k, v in params.items()), f"page={page_no}"])
        data: dict[str, Any] = self.http.post(
            path,
            lambda: self.body({**params, "page": page_no, "size": self.page_size}),
            context=self.label,
            expect=page_of("list"),
            detail=where,
        )
        return data

    def _list(
        self, path: str, key: tuple[str, ...], what: str, attempts: int, **params: Any
    ) -> tuple[Whole, list[dict[str, Any]]]:
        """A paged list read whole, and the data object of every page (for their totals)."""
        pages: list[dict[str, Any]] = []

        def fetch(page_no: int) -> Page:
            if page_no == 1:
                pages.clear()  # a new read of the list
            data = self._page(path, params, page_no)
            pages.append(data)
            return Page(rows=list(data["list"]), total=data["total"])

        whole = fetch_whole(fetch, self.page_size, key, attempts, what)
        return whole, pages

    def users(self) -> JtUsers:
        """Every user with its balances, and the response's totals (the same on every page)."""
        fields = (*self.profile.total_fields, "total")
        what = f"{self.label}: users"
        problem = ""
        # One retry loop for both ways a read can be torn: keys against `total`, and totals
        # that differ between pages.
        for _ in range(self.window_attempts):
            try:
                whole, pages = self._list(self.profile.users_path, self.profile.user_key, what, 1)
            except WindowIncomplete as exc:
                problem = str(exc)
                continue
            totals = [{f: page.get(f) for f in fields} for page in pages]
            if all(t == totals[0] for t in totals):
                return JtUsers(whole.rows, totals[0] if totals else {})
            problem = f"{what}: totals changed between pages"
        raise WindowIncomplete(f"{problem} (after {self.window_attempts} attempts)")

    def records(self, start: datetime, end: datetime) -> Whole:
        """Balance records with start <= createTime < end, read whole, in time slices if the
        window keeps shifting (connectors.paging.fetch_window)."""
        if end - start > timedelta(days=self.profile.max_window_days):
            raise ValueError(
                f"{self.label}: a records window is at most {self.profile.max_window_days} days"
            )
        fmt = self.profile.datetime_format
        path = self.profile.records_path

        def fetch(lo: datetime, hi: datetime, page_no: int) -> Page:
            params = {"startTime": lo.strftime(fmt), "endTime": hi.strftime(fmt)}
            data = self._page(path, params, page_no)
            return Page(rows=list(data["list"]), total=data["total"])

        return fetch_window(
            fetch,
            start,
            end,
            self.page_size,
            self.profile.record_key,
            self.slicing,
            f"{self.label}: balance records [{start.strftime(fmt)}, {end.strftime(fmt)})",
            fmt,
        )

    def records_since(self, start: datetime, end: datetime) -> Whole:
        """Balance records with start <= createTime < end over any span: JT serves at most
        `max_window_days` per request, so a longer span is read in consecutive windows of
        that length, each whole (`records`), their rows joined and their totals added. An
        empty span (start at or after end: the newest landed day is today) reads nothing,
        which JT would refuse as a bad parameter."""
        step = timedelta(days=self.profile.max_window_days)
        rows: list[Any] = []
        total = attempts = slices = 0
        lo = start
        while lo < end:
            hi = min(lo + step, end)
            whole = self.records(lo, hi)
            rows.extend(whole.rows)
            total += whole.total
            attempts += whole.attempts
            slices += whole.slices
            lo = hi
        return Whole(rows, total, max(attempts, 1), max(slices, 1))

    def read_bracketed(
        self, tail_from: datetime | None, until: datetime
    ) -> tuple[Bracketed, JtUsers]:
        """The users, read between two reads of the records since `tail_from` (to `until`),
        however long ago that is (in windows JT allows, `records_since`).

        Without `tail_from` (no window landed yet) there is nothing to compare with.
        """
        if tail_from is None:
            users = self.users()
            return Bracketed(users.rows, {}, False, 1), users
        users, tails, consistent, attempts = bracket(
            self.users,
            lambda: {"records": self.records_since(tail_from, until).rows},
            {"records": self.profile.record_key},
            self.window_attempts,
        )
        return Bracketed(users.rows, tails, consistent, attempts), users
