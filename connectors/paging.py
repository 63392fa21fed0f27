"""The one page loop, and the completeness check every list read goes through.

A list is fetched whole and checked before anyone sees it: as many distinct keys as the
API's `total`, the same `total` on every page. Offset paging over live data can shift rows
between pages (a row inserted at the head pushes one onto the next page, twice or never
seen), so a list that fails the check is read again. A time window that fails every attempt
is read again in slices (`fetch_window`): halved, and halved again, down to a smallest slice,
each slice read whole on its own and the slices merged by key; only a smallest slice that
fails every attempt raises `WindowIncomplete`, and nothing of the window is landed.

A row that is not an object (a provider bug) still counts: it takes its place toward the
`total` under a key made of its own text, and is quarantined by the caller when converted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar


class WindowIncomplete(Exception):
    """A list did not come back whole after every attempt (`reads`: the reads it took)."""

    def __init__(self, message: str, problem: str = "", reads: int = 0) -> None:
        super().__init__(message)
        self.problem = problem
        self.reads = reads


@dataclass
class Page:
    # Rows as the provider sent them: objects, or anything else to be quarantined.
    rows: list[Any]
    total: int


@dataclass
class PagedResult:
    rows: list[Any] = field(default_factory=list)
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
    """Every row of one list read, checked complete; `attempts`: the reads it took (of the
    window or of its slices); `slices`: the time slices it was read in (1: read whole)."""

    rows: list[Any]
    total: int
    attempts: int
    slices: int = 1


NOT_AN_OBJECT = "<not an object>"


def row_key(row: object, key_fields: Sequence[str]) -> tuple[str, ...]:
    """A row's key; a row that is not an object is keyed by its own JSON text."""
    if isinstance(row, Mapping):
        return tuple(str(row.get(k)) for k in key_fields)
    return (NOT_AN_OBJECT, json.dumps(row, default=str, sort_keys=True))


def row_keys(rows: Sequence[object], key_fields: Sequence[str]) -> set[tuple[str, ...]]:
    return {row_key(r, key_fields) for r in rows}


def fetch_whole(
    fetch: Callable[[int], Page],
    page_size: int,
    key_fields: Sequence[str],
    attempts: int,
    what: str,
) -> Whole:
    """Read a list until one read is whole (see module doc); `what` names it in the error."""
    problem = ""
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        result = collect_pages(fetch, page_size)
        keys = row_keys(result.rows, key_fields)
        totals = set(result.totals)
        if len(totals) == 1 and len(keys) == len(result.rows) == result.totals[0]:
            return Whole(result.rows, result.totals[0], attempt)
        problem = (
            f"API reported total {sorted(totals)} but {len(result.rows)} rows arrived "
            f"with {len(keys)} distinct keys"
        )
    raise WindowIncomplete(
        f"{what} incomplete after {attempts} attempts: {problem}", problem, attempts
    )


@dataclass(frozen=True)
class Slicing:
    """How hard a time window is tried: `attempts` reads of the window and of each slice,
    and slices no shorter than `min_slice` (whole seconds: provider times have no less)."""

    attempts: int = 2
    min_slice: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        if self.min_slice < timedelta(seconds=1):
            raise ValueError("the smallest slice must be at least one second")

    def halves(self, start: datetime, end: datetime) -> datetime | None:
        """Where to split [start, end) in two slices of at least `min_slice`, or None."""
        if end - start < 2 * self.min_slice:
            return None
        return start + timedelta(seconds=int((end - start).total_seconds()) // 2)


def fetch_window(
    fetch: Callable[[datetime, datetime, int], Page],
    start: datetime,
    end: datetime,
    page_size: int,
    key_fields: Sequence[str],
    slicing: Slicing,
    what: str,
    datetime_format: str,
) -> Whole:
    """The rows of the time window [start, end), read whole, in slices if it keeps shifting.

    `fetch(lo, hi, page_no)` reads one page of the slice [lo, hi). A slice that fails its
    attempts is split in halves (`Slicing.halves`), each read on its own; the slices' rows
    are merged by key and their totals added, so the window's total is the sum of what the
    API reported for each slice. A slice that cannot be split fails the window, naming it.
    """
    reads = 0

    def label(lo: datetime, hi: datetime) -> str:
        return f"[{lo.strftime(datetime_format)}, {hi.strftime(datetime_format)})"

    def read(lo: datetime, hi: datetime) -> Whole:
        nonlocal reads
        try:
            whole = fetch_whole(
                partial(fetch, lo, hi), page_size, key_fields, slicing.attempts, what
            )
        except WindowIncomplete as exc:
            reads += exc.reads
            middle = slicing.halves(lo, hi)
            if middle is None and (lo, hi) == (start, end):
                raise WindowIncomplete(str(exc), exc.problem, reads) from None
            if middle is None:
                seconds = int(slicing.min_slice.total_seconds())
                raise WindowIncomplete(
                    f"{what} incomplete after {slicing.attempts} attempts even in its "
                    f"smallest slice {label(lo, hi)} (min_slice_seconds={seconds}): "
                    f"{exc.problem}",
                    exc.problem,
                    reads,
                ) from None
            return merge(read(lo, middle), read(middle, hi), lo, hi)
        reads += whole.attempts
        return whole

    def merge(first: Whole, second: Whole, lo: datetime, hi: datetime) -> Whole:
        merged = {row_key(r, key_fields): r for r in first.rows}
        for row in second.rows:
            key = row_key(row, key_fields)
            if key in merged:
                # Disjoint time slices cannot share a row unless its time moved between
                # the reads: nothing can be trusted to add up.
                shown = "a row that is not an object" if key[0] == NOT_AN_OBJECT else "|".join(key)
                raise WindowIncomplete(
                    f"{what} incomplete: {shown} came back in two slices of {label(lo, hi)}",
                    "a row in two slices",
                    reads,
                )
            merged[key] = row
        total = first.total + second.total
        return Whole(list(merged.values()), total, 0, first.slices + second.slices)

    whole = read(start, end)
    return Whole(whole.rows, whole.total, reads, whole.slices)


T = TypeVar("T")
Rows = list[Any]


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
    first: Sequence[object],
    second: Sequence[object],
    key_fields: Sequence[str],
) -> bool:
    """Whether two reads of a list hold the same rows, by key and content."""

    def by_key(rows: Sequence[object]) -> dict[tuple[str, ...], Any]:
        return {row_key(r, key_fields): r for r in rows}

    return by_key(first) == by_key(second)


@dataclass
class Bracketed:
    """A snapshot list with the rows booked since `tail_from`, read around it.

    `consistent` is true when two reads of every tail, one before and one after the
    snapshot, returned the same rows: then the snapshot's balances describe exactly what the
    loaded windows plus these tails contain, and a tie-out may compare them.
    """

    rows: list[Any]
    tails: dict[str, list[Any]]
    consistent: bool
    attempts: int
