"""`make bench`, publishing: what the read-only snapshot costs, as ratios measured here.

A synthetic warehouse (a ledger of DECIMAL rows and a breaks table) is stamped and published
with `store.publish` (copy the checkpointed file, fsync, open it to verify, rename):
- publish / file copy: against copying the same checkpointed file byte for byte and syncing
  it, the least any snapshot could cost (1.0 = no overhead beyond moving the bytes);
- per-row publish time, large / baseline (1.0 = publishing grows linearly with the data);
- COPY FROM DATABASE / publish: the alternative of letting DuckDB rewrite every table into
  the snapshot (what the first version did), against the byte copy.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from store.duck import STORAGE_VERSION, connect_file
from store.publish import publish, stamp

BASELINE_ROWS = 500_000
LARGE_ROWS = 2_500_000


def _warehouse(path: Path, rows: int) -> None:
    # In the pipeline's storage format: publish refuses any other.
    with connect_file(path) as con:
        con.execute(
            "create table fct_ledger_entries as select "
            "'openapi' as provider, (i % 50)::varchar as account_id, "
            "'T' || i::varchar as transaction_id, "
            "((i * 7919) % 100000)::decimal(18, 2) / 100 as amount, "
            "((i * 104729) % 10000000)::decimal(18, 2) as before_balance, "
            "timestamp '2026-11-01' + to_seconds(i) as transaction_time "
            "from range(?) t(i)",
            [rows],
        )
        con.execute(
            "create table fct_breaks as select md5(i::varchar)[:16] as break_id, "
            "'open' as status, i::decimal(38, 8) as difference from range(?) t(i)",
            [rows // 1000],
        )
        con.execute("checkpoint")


def _measure(folder: Path, rows: int) -> tuple[float, float, float, int]:
    """Seconds to publish, to copy and sync the bytes, and to COPY FROM DATABASE; and size."""
    work = folder / f"work-{rows}.duckdb"
    _warehouse(work, rows)
    with duckdb.connect(str(work)) as con:
        stamp(con, "bench", datetime.now(), datetime.now())
    started = time.perf_counter()
    copy = shutil.copyfile(work, folder / "copy.duckdb")
    with copy.open("rb+") as f:
        os.fsync(f.fileno())  # publish syncs its file too; the baseline must as well
    copy_s = time.perf_counter() - started
    started = time.perf_counter()
    published = publish(work, folder / "warehouse.duckdb", folder / "snapshots", "bench")
    publish_s = time.perf_counter() - started
    # The way this project published first: DuckDB rewrites every table into a new file.
    with duckdb.connect(str(work)) as con:
        started = time.perf_counter()
        con.execute(
            f"attach ? as snap (storage_version '{STORAGE_VERSION}')",
            [str(folder / f"rewritten-{rows}.duckdb")],
        )
        con.execute(f'copy from database "{work.stem}" to snap')
        con.execute("checkpoint snap")
        con.execute("detach snap")
        rewrite_s = time.perf_counter() - started
    return publish_s, copy_s, rewrite_s, published.size_bytes


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        folder = Path(tmp)
        base_publish, base_copy, _, _ = _measure(folder, BASELINE_ROWS)
        large_publish, large_copy, large_rewrite, large_size = _measure(folder, LARGE_ROWS)
    print(
        f"publish: {LARGE_ROWS:,} ledger rows ({large_size / 2**20:.0f} MiB) in "
        f"{large_publish:.2f}s; baseline {BASELINE_ROWS:,} rows in {base_publish:.2f}s"
    )
    print(f"  publish / file copy, large:              {large_publish / large_copy:.1f}x")
    print(f"  publish / file copy, baseline:           {base_publish / base_copy:.1f}x")
    per_row = (large_publish / LARGE_ROWS) / (base_publish / BASELINE_ROWS)
    print(f"  per-row publish time, large / baseline:  {per_row:.2f}x")
    print(f"  COPY FROM DATABASE / publish, large:     {large_rewrite / large_publish:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
