"""The one page loop, and the completeness check every list read goes through.

A list is fetched whole and checked before anyone sees it: as many distinct keys as the
API's `total`, the same `total` on every page. Offset paging over live data can shift rows
between pages (a row inserted at the head pushes one onto the next page, twice or never
seen), so a list that fails the check is read again; one that fails every attempt raises
`WindowIncomplete` and nothing of it is landed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar


class WindowIncomplete(Exception):
    """A list did not come back whole after every attempt."""


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int


@dataclass
class PagedResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    pages: int = 0


def collect_pages(fetch: Callable[[int], Page], page_size: int) -> PagedResult:
    """The one page loop.

    Pages are 1-based; stop when rows collected >= the latest total, on a short page (fewer
    than page_size rows), or on an empty page. Every page's total is kept so the caller can
    notice a window that shifted while it was being read.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    result = PagedResult()
    page_no = 1
    while True:
        page = fetch(page_no)
        result.pages = page_no
        result.totals.append(page.total)
        result.rows.extend(page.rows)
        if not page.rows or len(page.rows) < page_size or len(result.rows) >= page.total:
            return result
        page_no += 1


@dataclass
class Whole:
    """Every row of one list read, checked complete; `attempts` reads it took."""

    rows: list[dict[str, Any]]
    total: int
    attempts: int


def row_keys(rows: Sequence[Mapping[str, Any]], key_fields: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(str(r.get(k)) for k in key_fields) for r in rows}


def fetch_whole(
    fetch: Callable[[int], Page],
    page_size: int,
    key_fields: Sequence[str],
    attempts: int,
    what: str,
) -> Whole:
    """Read a list until one read is whole (see module doc); `what` names it in the error."""
    problem = ""
    for attempt in range(1, max(1, attempts) + 1):
        result = collect_pages(fetch, page_size)
        keys = row_keys(result.rows, key_fields)
        totals = set(result.totals)
        if len(totals) == 1 and len(keys) == len(result.rows) == result.totals[0]:
            return Whole(result.rows, result.totals[0], attempt)
        problem = (
            f"API reported total {sorted(totals)} but {len(result.rows)} rows arrived "
            f"with {len(keys)} distinct keys"
        )
    raise WindowIncomplete(f"{what} incomplete after {max(1, attempts)} attempts: {problem}")


T = TypeVar("T")
Rows = list[dict[str, Any]]


def bracket(
    read_snapshot: Callable[[], T],
    read_tails: Callable[[], dict[str, Rows]],
    key_fields: Mapping[str, Sequence[str]],
    attempts: int,
) -> tuple[T, dict[str, Rows], bool, int]:
    """A snapshot read between two reads of its tails (the rows that move its balances).

    Returns the snapshot, the tails as read after it, whether both reads of every tail held
    the same rows, and the attempts it took. Only then do the snapshot's balances describe
    exactly the loaded rows plus these tails. If the data kept moving on every attempt, the
    last snapshot is kept but cannot be tied to the rows (a tie-out then reports nothing
    rather than a false break).
    """
    for attempt in range(1, max(1, attempts) + 1):
        before = read_tails()
        snapshot = read_snapshot()
        after = read_tails()
        if all(same_rows(before[t], after[t], key_fields[t]) for t in after):
            return snapshot, after, True, attempt
    return snapshot, after, False, attempt


def same_rows(
    first: Sequence[Mapping[str, Any]],
    second: Sequence[Mapping[str, Any]],
    key_fields: Sequence[str],
) -> bool:
    """Whether two reads of a list hold the same rows, by key and content."""

    def by_key(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], Any]:
        return {tuple(str(r.get(k)) for k in key_fields): r for r in rows}

    return by_key(first) == by_key(second)


@dataclass
class Bracketed:
    """A snapshot list with the rows booked since `tail_from`, read around it.

    `consistent` is true when two reads of every tail, one before and one after the
    snapshot, returned the same rows: then the snapshot's balances describe exactly what the
    loaded windows plus these tails contain, and a tie-out may compare them.
    """

    rows: list[dict[str, Any]]
    tails: dict[str, list[dict[str, Any]]]
    consistent: bool
    attempts: int
