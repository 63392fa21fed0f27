"""An analyst in another process: opens the published warehouse read-only in a loop and
writes down what each connection saw, until told to stop.

    python -m tests.support.snapshot_reader WAREHOUSE OUT_JSONL STOP_FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

# Counts and run stamps from several tables, read on one connection: if a reader could see
# tables of two runs at once, these would disagree with both runs' own signatures.
SIGNATURE = {
    "run_id": "select run_id from recon_publication",
    "published_run_at": "select run_at::varchar from recon_publication",
    "ledger_entries": "select count(*) from fct_ledger_entries",
    "raw_transactions": "select count(*) from raw_openapi__transactions",
    "breaks": "select count(*) from fct_breaks",
    "breaks_last_seen": "select max(last_seen_at)::varchar from fct_breaks",
    "counts_last_run": "select max(run_at)::varchar from fct_break_counts",
    "runs_in_counts": "select count(distinct run_at) from fct_break_counts",
}


def signature(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sql in SIGNATURE.items():
        row = con.execute(sql).fetchone()
        out[name] = row[0] if row else None
    return out


def read_once(path: Path) -> dict[str, Any]:
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return signature(con)
    except Exception as exc:  # every failure is what the test is looking for
        return {"error": f"{type(exc).__name__}: {exc}"}


def main(path: Path, out: Path, stop: Path) -> None:
    with out.open("a") as sink:
        while not stop.exists():
            sink.write(json.dumps(read_once(path)) + "\n")
            sink.flush()
            time.sleep(0.005)
        sink.write(json.dumps(read_once(path)) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
