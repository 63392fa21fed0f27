"""Comparing two warehouses by content, the moments and places of their runs aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

# Tables that log runs: every run adds to them.
RUN_LOG = ("fct_break_counts", "recon_publication")
# Columns that hold when or where a run did something (this machine's clock, the data
# directory), not what the data says.
RUN_COLUMNS = {
    "_fetched_at", "fetched_at", "_snapshot_at", "snapshot_at", "_source_file", "source_file",
    "entry_source_file", "first_seen_at", "last_seen_at", "opened_at", "resolved_at",
    "_replaced_at", "event_at", "_consumed_at", "built_at", "ledger_landed_at",
    "hours_to_landing",
}  # fmt: skip


def content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the run logs, run columns left out, rows sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()
            if r[0] not in RUN_LOG
        ]
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where table_name = ? "
                    "order by column_index",
                    [table],
                ).fetchall()
                if r[0] not in RUN_COLUMNS
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            found[table] = con.execute(f"select {listed} from {table} order by all").fetchall()
    return found
