"""What the app reads from the published snapshot, opened read-only for each request.

The snapshot is replaced by a rename after every run, so a connection per request always
reads one whole run, the newest; the pipeline's working file is never opened. Provider text
is shown as it came, escaped by the templates; any card number in it is cut to its last four
first (connectors.redact), whatever column it hides in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from connectors.redact import redact
from outputs.report_data import (
    TEMP_VIEWS,
    Break,
    Coverage,
    RunPoint,
    Wallet,
    attach,
)
from outputs.report_data import coverage as coverage_rows
from store.datasets import DATASETS
from store.duck import sql_text
from store.publish import Publication, read_publication

AROUND = 3  # entries either side of the marked one
CHART_AROUND = 30


class NotPublished(RuntimeError):
    pass


@contextmanager
def open_snapshot(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.exists():
        raise NotPublished(f"no published warehouse at {path}: run `recon run` or `recon demo`")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def masked(value: Any) -> Any:
    """Text with any card number cut to its last four; other values unchanged."""
    return redact(value) if isinstance(value, str) else value


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [{n: masked(v) for n, v in zip(names, r, strict=True)} for r in cursor.fetchall()]


def queue_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return rows(con, sql_text("ui_queue"))


def runs(con: duckdb.DuckDBPyConnection) -> list[RunPoint]:
    return [RunPoint(*r.values()) for r in rows(con, sql_text("report_breaks_over_time"))]


def coverage(con: duckdb.DuckDBPyConnection) -> list[Coverage]:
    """What the checks vouch for per provider account and currency (as the report shows it)."""
    return coverage_rows(con)


def publication(con: duckdb.DuckDBPyConnection) -> Publication | None:
    return read_publication(con)


@dataclass
class BreakView:
    """Everything the break page shows that comes from the snapshot."""

    brk: dict[str, Any]
    unit: str
    entries: list[dict[str, Any]]
    landed: list[tuple[str, dict[str, Any]]]  # (raw table, row) from the break's source file
    wallet: Wallet | None
    events: list[dict[str, Any]] = field(default_factory=list)


def break_view(con: duckdb.DuckDBPyConnection, break_id: str) -> BreakView | None:
    found = rows(con, "select * from fct_breaks where break_id = ?", [break_id])
    if not found:
        return None
    brk = found[0]
    unit_row = con.execute(
        "select difference_unit from recon_checks where check_name = ?", [brk["check_name"]]
    ).fetchone()
    for view in TEMP_VIEWS:
        con.execute(f"create or replace temp view {view} as {sql_text(view)}")
    entries = rows(con, sql_text("ui_break_entries"), {"break_id": break_id, "around": AROUND})
    events = rows(
        con,
        "select event_at, event, status, expected, actual, difference, detail, actor "
        "from fct_break_events where break_id = ? and actor = 'run' order by event_at",
        [break_id],
    )
    return BreakView(
        brk=brk,
        unit=str(unit_row[0]) if unit_row else "money",
        entries=entries,
        landed=landed_rows(con, brk),
        wallet=_wallet(con, break_id),
        events=events,
    )


def landed_rows(
    con: duckdb.DuckDBPyConnection, brk: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The rows of the break's landed file (`source_file`) that name its entity or entries,
    as the snapshot's raw tables hold them (each raw row keeps its `_source_file`)."""
    if not brk.get("source_file"):
        return []
    ids = {
        str(v)
        for v in (brk["transaction_id"], brk["related_transaction_id"], brk["entity_id"])
        if v
    }
    present = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    out: list[tuple[str, dict[str, Any]]] = []
    for ds in DATASETS:
        # Table names come from the dataset catalogue, never from a request.
        if ds.raw_table not in present:
            continue
        columns = [r[0] for r in con.execute(f"describe {ds.raw_table}").fetchall()]
        if "_source_file" not in columns:
            continue
        for row in rows(
            con,
            f"select * from {ds.raw_table} where _source_file = ? limit 5000",
            [brk["source_file"]],
        ):
            if ids & {str(v) for v in row.values() if v is not None}:
                out.append((ds.raw_table, row))
    return out[:10]


def _wallet(con: duckdb.DuckDBPyConnection, break_id: str) -> Wallet | None:
    located = rows(con, "select * from report_break_entries where break_id = ?", [break_id])
    if not located or located[0]["wallet_key"] is None:
        return None
    b = located[0]
    chain = rows(
        con,
        "with chain as (select *, row_number() over (order by transaction_time, created_at, "
        "transaction_id, in_out_type) as seq from fct_ledger_entries where provider = ? and "
        "account_id = ? and wallet_key = ?), mark as (select min(seq) as seq from chain "
        "where transaction_id = ?) select chain.* from chain, mark "
        "where chain.seq between coalesce(mark.seq, 0) - ? and coalesce(mark.seq, 0) + ? "
        "order by chain.seq",
        [b["provider"], b["account_id"], b["wallet_key"], b["marked_transaction_id"],
         CHART_AROUND, CHART_AROUND],
    )  # fmt: skip
    wallet = Wallet(
        0, b["provider"], str(b["account_id"]), b["wallet_key"], b["wallet_name"] or "",
        b["wallet_currency"] or "", 0, 1, len(chain),
    )  # fmt: skip
    points = [
        {
            "provider": b["provider"],
            "account_id": b["account_id"],
            "wallet_key": b["wallet_key"],
            "seq": c["seq"],
            "transaction_id": c["transaction_id"],
            "in_out_type": c["in_out_type"],
            "transaction_time": c["transaction_time"],
            "after_balance": c["after_balance"],
        }
        for c in chain
    ]
    mark = Break(
        b["break_id"], b["check_name"], b["severity"], b["status"], b["provider"],
        str(b["account_id"]), b["entity_type"], str(b["entity_id"]), b["transaction_id"],
        b["currency"], b["expected"], b["actual"], b["difference"], b["detail"] or "",
        b["wallet_key"], b["marked_transaction_id"], b["marked_in_out_type"], b["marked_at"],
        b["marked_balance"], "money",
    )  # fmt: skip
    attach([wallet], points, [mark])
    return wallet
