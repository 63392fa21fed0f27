"""The break queue as the app shows it: open and pending breaks from the published snapshot,
each with its workflow state as of now (the workflow store, not only the last run's copy),
filtered, searched, sorted and cut into pages. Pure functions over rows; reading is
`outputs.app.snapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from store.workflow import State, current

# Age buckets in whole days since the current opening (pending: since first found).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1", 0, 1),
    ("2-7", 2, 7),
    ("8-30", 8, 30),
    (">30", 31, None),
)
SORTS = (
    "age_days", "difference", "check_name", "provider", "account_id", "currency", "status",
    "workflow_status", "owner", "first_seen_at", "break_id",
)  # fmt: skip
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """What the queue's form asks for; every field optional (empty means any)."""

    status: str = ""
    workflow_status: str = ""
    check: str = ""
    provider: str = ""
    account: str = ""
    currency: str = ""
    owner: str = ""
    age: str = ""
    min_amount: str = ""
    max_amount: str = ""
    q: str = ""
    sort: str = "age_days"
    order: str = "desc"
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v.strip() for k, v in params.items() if k in known}
        page = values.pop("page", "1")
        filters = cls(**values, page=int(page) if str(page).isdigit() and int(page) > 0 else 1)
        if filters.sort not in SORTS:
            filters = cls(**(values | {"sort": "age_days"}), page=filters.page)
        for bound in (filters.min_amount, filters.max_amount):
            if bound and _decimal(bound) is None:
                raise ValueError(f"{bound!r} is not an amount")
        return filters

    def query(self, **change: Any) -> dict[str, str]:
        """The filters as query parameters (for links: sort, pages, exports)."""
        values = {f.name: str(getattr(self, f.name)) for f in fields(self)} | {
            k: str(v) for k, v in change.items()
        }
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def bucket(age_days: int | None) -> str:
    age = age_days or 0
    for name, low, high in AGE_BUCKETS:
        if age >= low and (high is None or age <= high):
            return name
    return AGE_BUCKETS[0][0]


def with_workflow(
    rows: Sequence[dict[str, Any]], states: Mapping[str, State]
) -> list[dict[str, Any]]:
    """Each row with its workflow state for its numbers now (store.workflow.current)."""
    out = []
    for row in rows:
        state = current(
            states.get(row["break_id"]), (row["expected"], row["actual"], row["difference"])
        )
        out.append(
            row
            | {
                "workflow_status": state.workflow_status,
                "owner": state.owner,
                "reason_code": state.reason_code,
                "note": state.note,
                "age_bucket": bucket(row["age_days"]),
            }
        )
    return out


def _matches(row: dict[str, Any], f: Filters) -> bool:
    exact = {
        "status": f.status,
        "workflow_status": f.workflow_status,
        "check_name": f.check,
        "provider": f.provider,
        "account_id": f.account,
        "currency": f.currency,
        "age_bucket": f.age,
    }
    if any(want and str(row[col] or "") != want for col, want in exact.items()):
        return False
    if f.owner and (row["owner"] or "").lower() != f.owner.lower():
        return False
    size = abs(row["difference"]) if row["difference"] is not None else None
    low, high = _decimal(f.min_amount), _decimal(f.max_amount)
    if (low is not None or high is not None) and size is None:
        return False
    if low is not None and size is not None and size < low:
        return False
    if high is not None and size is not None and size > high:
        return False
    if f.q:
        needle = f.q.lower()
        haystack = " ".join(
            str(row[c] or "")
            for c in ("break_id", "detail", "entity_id", "transaction_id", "account_id", "note")
        ).lower()
        if needle not in haystack:
            return False
    return True


def _sort_key(row: dict[str, Any], column: str) -> tuple[bool, Any]:
    value = row[column]
    if column == "difference" and value is not None:
        value = abs(value)
    # Missing values sort last whichever the direction (see `select`).
    return (value is None, value if value is not None else 0)


def select(rows: Sequence[dict[str, Any]], f: Filters) -> list[dict[str, Any]]:
    """The rows the filters keep, sorted (ties by break_id); not yet cut into pages."""
    kept = sorted((r for r in rows if _matches(r, f)), key=lambda r: r["break_id"])
    present = [r for r in kept if r[f.sort] is not None]
    absent = [r for r in kept if r[f.sort] is None]
    present.sort(key=lambda r: _sort_key(r, f.sort), reverse=f.order == "desc")
    return present + absent


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    number: int
    pages: int
    total: int


def page(rows: Sequence[dict[str, Any]], number: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    return Page(list(rows[(number - 1) * size : number * size]), number, pages, len(rows))


@dataclass(frozen=True)
class Headline:
    """Over the open breaks of the whole queue: amount at risk per currency (the sum of
    absolute differences of money checks; cents, rates, rows and hours are not money), and
    counts by age bucket."""

    at_risk: list[tuple[str, Decimal, int]]  # currency, sum of |difference|, breaks
    at_risk_cents: list[tuple[str, Decimal, int]]
    ages: list[tuple[str, int]]
    open_breaks: int
    pending_breaks: int
    explained: int


def headline(rows: Sequence[dict[str, Any]]) -> Headline:
    open_rows = [r for r in rows if r["status"] == "open"]

    def sums(unit: str) -> list[tuple[str, Decimal, int]]:
        totals: dict[str, tuple[Decimal, int]] = {}
        for r in open_rows:
            if r["difference_unit"] == unit and r["difference"] is not None:
                amount, count = totals.get(r["currency"] or "", (Decimal(0), 0))
                totals[r["currency"] or ""] = (amount + abs(r["difference"]), count + 1)
        return [(c, a, n) for c, (a, n) in sorted(totals.items())]

    ages = [
        (name, sum(1 for r in open_rows if r["age_bucket"] == name)) for name, *_ in AGE_BUCKETS
    ]
    return Headline(
        at_risk=sums("money"),
        at_risk_cents=sums("minor"),
        ages=ages,
        open_breaks=len(open_rows),
        pending_breaks=sum(1 for r in rows if r["status"] == "pending"),
        explained=sum(1 for r in open_rows if r["workflow_status"] == "explained"),
    )


def choices(rows: Sequence[dict[str, Any]], column: str) -> list[str]:
    return sorted({str(r[column]) for r in rows if r[column] is not None})
