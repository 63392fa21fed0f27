"""What the HTML report shows, read from the published warehouse by the `sql/reports/report_*.sql`
queries into small typed rows. Nothing here renders; `outputs.report` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from store.duck import sql_text
from store.publish import Publication, read_publication

# Views the report queries read from one another; temporary, so a read-only snapshot will do.
TEMP_VIEWS = ("report_break_entries", "report_wallets")
MAX_WALLETS = 40
MAX_POINTS = 600


@dataclass(frozen=True)
class CheckSummary:
    check_name: str
    provider: str
    severity: str
    open_breaks: int
    pending: int
    resolved: int
    open_amounts: str


@dataclass(frozen=True)
class DayCount:
    check_name: str
    provider: str
    day: date
    open_breaks: int
    pending: int
    resolved: int
    breaks: int


@dataclass(frozen=True)
class RunPoint:
    run_at: datetime
    open_breaks: int
    pending: int
    resolved: int
    opened_in_run: int
    resolved_in_run: int


@dataclass(frozen=True)
class Break:
    """One break of fct_breaks, with the ledger wallet and entry it is marked at, if any."""

    break_id: str
    check_name: str
    severity: str
    status: str
    provider: str
    account_id: str
    entity_type: str
    entity_id: str
    transaction_id: str | None
    currency: str | None
    expected: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    detail: str
    wallet_key: str | None
    marked_transaction_id: str | None
    marked_in_out_type: int | None
    marked_at: datetime | None
    marked_balance: Decimal | None
    difference_unit: str


@dataclass(frozen=True)
class BalancePoint:
    seq: int
    transaction_id: str
    in_out_type: int
    at: datetime
    balance: Decimal


@dataclass
class Wallet:
    rank: int
    provider: str
    account_id: str
    wallet_key: str
    wallet_name: str
    currency: str
    open_breaks: int
    breaks: int
    entries: int
    points: list[BalancePoint] = field(default_factory=list)
    marks: list[Break] = field(default_factory=list)

    @property
    def downsampled(self) -> bool:
        return len(self.points) < self.entries


@dataclass(frozen=True)
class Coverage:
    """What the checks vouch for in one provider account's currency over the loaded days
    (sql/reports/report_coverage.sql over fct_coverage): exact counts and volumes."""

    provider: str
    account_id: str
    currency: str
    days: int
    first_day: date
    last_day: date
    entries: int
    volume: Decimal
    chain_verified_entries: int
    chain_verified_volume: Decimal
    fx_verified_entries: int
    fx_verified_volume: Decimal
    order_verified_entries: int
    order_verified_volume: Decimal
    complete_days: int
    max_hours_to_landing: Decimal | None

    def volume_share(self, way: str) -> Decimal | None:
        """The share of the volume verified one `way` (chain, fx, order), in per cent to one
        place: Decimal division, never floating point; None when nothing moved."""
        verified: Decimal = getattr(self, f"{way}_verified_volume")
        if not self.volume:
            return None
        return (verified * 100 / self.volume).quantize(Decimal("0.1"), ROUND_HALF_UP)


def coverage(con: duckdb.DuckDBPyConnection) -> list[Coverage]:
    """The coverage rows, or none from a snapshot published before fct_coverage existed."""
    present = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = 'fct_coverage'"
    ).fetchone()
    if not present or not present[0]:
        return []
    return [
        Coverage(**{**r, "account_id": str(r["account_id"])}) for r in _rows(con, "report_coverage")
    ]


@dataclass(frozen=True)
class ReportData:
    publication: Publication | None
    totals: dict[str, int]
    summary: list[CheckSummary]
    by_day: list[DayCount]
    runs: list[RunPoint]
    wallets: list[Wallet]  # the charted wallets, at most max_wallets
    wallets_with_breaks: int
    unplaced: list[Break]  # breaks about no ledger wallet
    max_points: int
    # Open breaks of money checks: currency, sum of |difference|, breaks.
    at_risk: list[tuple[str, Decimal, int]] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)


def at_risk(breaks: Sequence[Break]) -> list[tuple[str, Decimal, int]]:
    """Amount at risk per currency: the sum of the absolute differences of the open breaks
    whose difference is money (rates, cents, rows and hours are left out)."""
    totals: dict[str, tuple[Decimal, int]] = {}
    for b in breaks:
        if b.status == "open" and b.difference_unit == "money" and b.difference is not None:
            amount, count = totals.get(b.currency or "", (Decimal(0), 0))
            totals[b.currency or ""] = (amount + abs(b.difference), count + 1)
    return [(c, a, n) for c, (a, n) in sorted(totals.items())]


def _rows(
    con: duckdb.DuckDBPyConnection, model: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql_text(model), params or {})
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _break(row: dict[str, Any], units: dict[str, str]) -> Break:
    return Break(
        break_id=row["break_id"],
        check_name=row["check_name"],
        severity=row["severity"],
        status=row["status"],
        provider=row["provider"],
        account_id=str(row["account_id"]),
        entity_type=row["entity_type"],
        entity_id=str(row["entity_id"]),
        transaction_id=row["transaction_id"],
        currency=row["currency"],
        expected=row["expected"],
        actual=row["actual"],
        difference=row["difference"],
        detail=row["detail"] or "",
        wallet_key=row["wallet_key"],
        marked_transaction_id=row["marked_transaction_id"],
        marked_in_out_type=row["marked_in_out_type"],
        marked_at=row["marked_at"],
        marked_balance=row["marked_balance"],
        difference_unit=units.get(row["check_name"], "money"),
    )


def wallet_id(provider: str, account_id: str, wallet_key: str) -> tuple[str, str, str]:
    return (provider, account_id, wallet_key)


def attach(
    wallets: Sequence[Wallet], points: Sequence[dict[str, Any]], marks: Sequence[Break]
) -> None:
    """Give each charted wallet its balance points (in chain order) and its breaks."""
    by_id = {wallet_id(w.provider, w.account_id, w.wallet_key): w for w in wallets}
    for p in points:
        wallet = by_id.get(wallet_id(p["provider"], str(p["account_id"]), p["wallet_key"]))
        if wallet is not None:
            wallet.points.append(
                BalancePoint(
                    p["seq"],
                    p["transaction_id"],
                    p["in_out_type"],
                    p["transaction_time"],
                    p["after_balance"],
                )
            )
    for m in marks:
        if m.wallet_key is not None:
            wallet = by_id.get(wallet_id(m.provider, m.account_id, m.wallet_key))
            if wallet is not None:
                wallet.marks.append(m)
    # Numbered left to right along the chart.
    for wallet in wallets:
        wallet.marks.sort(key=lambda m: (m.marked_at or datetime.max, m.check_name, m.break_id))


def load_report(
    con: duckdb.DuckDBPyConnection, max_wallets: int = MAX_WALLETS, max_points: int = MAX_POINTS
) -> ReportData:
    for view in TEMP_VIEWS:
        con.execute(f"create or replace temp view {view} as {sql_text(view)}")
    units = dict(
        (str(name), str(unit))
        for name, unit in con.execute(
            "select check_name, difference_unit from recon_checks"
        ).fetchall()
    )
    breaks = [_break(r, units) for r in _rows(con, "report_break_entries")]
    breaks.sort(key=lambda b: (b.check_name, b.provider, b.account_id, b.entity_id, b.break_id))
    totals = {s: sum(1 for b in breaks if b.status == s) for s in ("open", "pending", "resolved")}
    ranked = _rows(con, "report_wallets")
    wallets = [
        Wallet(
            r["wallet_rank"],
            r["provider"],
            str(r["account_id"]),
            r["wallet_key"],
            r["wallet_name"],
            r["currency"],
            r["open_breaks"],
            r["breaks"],
            r["entries"],
        )
        for r in ranked[:max_wallets]
    ]
    points = _rows(
        con, "report_wallet_balances", {"max_wallets": max_wallets, "max_points": max_points}
    )
    attach(wallets, points, breaks)
    return ReportData(
        publication=read_publication(con),
        totals=totals,
        summary=[CheckSummary(*r.values()) for r in _rows(con, "break_summary")],
        by_day=[DayCount(*r.values()) for r in _rows(con, "report_breaks_by_day")],
        runs=[RunPoint(*r.values()) for r in _rows(con, "report_breaks_over_time")],
        wallets=wallets,
        wallets_with_breaks=len(ranked),
        unplaced=[b for b in breaks if b.wallet_key is None],
        max_points=max_points,
        at_risk=at_risk(breaks),
        coverage=coverage(con),
    )
