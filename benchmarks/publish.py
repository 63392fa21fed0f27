"""`make bench`, publishing: why a snapshot has no key indexes, as ratios measured here.

A night's publishing brings the standby snapshot up to date in place: the rows of the changed
keys are deleted and inserted again, then the slot is checkpointed (store.publish). This
measures that statement pattern on a synthetic ledger table of `BASELINE_ROWS` and of
`LARGE_ROWS` rows, with and without a primary key, for the same number of changed rows
(`CHANGED`: half of them the newest rows again, half new ones, as on a night), median of
`ROUNDS` rounds:
- update, large / baseline: 1.0 = the update costs what changed, not what the table holds;
- with key / without key, large: what the key index costs the update (DuckDB writes a changed
  table's index whole at each checkpoint);
- file size with key / without key.
The whole nightly run, with publishing after history against the same night on an empty
warehouse, is `benchmarks/nightly.py`.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from store.duck import connect_file

BASELINE_ROWS = 600_000
LARGE_ROWS = 3_000_000
CHANGED = 15_000  # about one night's changed entries in benchmarks/nightly.py
ROUNDS = 9


def _table(path: Path, rows: int, keyed: bool) -> None:
    with connect_file(path) as con:
        key = "primary key" if keyed else "not null"
        con.execute(
            f"create table ledger (transaction_id varchar {key}, account_id integer, "
            "amount decimal(18, 2), before_balance decimal(18, 2), note varchar)"
        )
        con.execute(
            "insert into ledger select 'T' || i, i % 1000, (i % 100000)::decimal(18, 2) / 100, "
            "((i * 104729) % 10000000)::decimal(18, 2), 'row ' || i from range(?) t(i)",
            [rows],
        )
        con.execute("checkpoint")


def _update(path: Path, rows: int, night: int) -> float:
    """Seconds to replace CHANGED rows by key in one transaction and checkpoint. As on a
    night: half of them the newest rows again (the lookback's redeliveries), half new."""
    with connect_file(path) as con:
        con.execute(
            "create temp table changed as select 'T' || i as transaction_id from range(?, ?) t(i)",
            [
                rows + night * CHANGED // 2 - CHANGED // 2,
                rows + night * CHANGED // 2 + CHANGED // 2,
            ],
        )
        started = time.perf_counter()
        con.execute("begin")
        con.execute(
            "delete from ledger using changed c where ledger.transaction_id = c.transaction_id"
        )
        con.execute(
            "insert into ledger select transaction_id, ?, 1.00, 2.00, 'changed' from changed",
            [night],
        )
        con.execute("commit")
        con.execute("checkpoint")
        return time.perf_counter() - started


def _measure(folder: Path, rows: int, keyed: bool) -> tuple[float, int]:
    path = folder / f"ledger-{rows}-{keyed}.duckdb"
    _table(path, rows, keyed)
    seconds = statistics.median(_update(path, rows, night) for night in range(ROUNDS))
    return seconds, path.stat().st_size


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        folder = Path(tmp)
        figures = {
            (rows, keyed): _measure(folder, rows, keyed)
            for rows in (BASELINE_ROWS, LARGE_ROWS)
            for keyed in (False, True)
        }
    (base, _), (large, large_size) = figures[BASELINE_ROWS, False], figures[LARGE_ROWS, False]
    (base_k, _), (large_k, large_size_k) = figures[BASELINE_ROWS, True], figures[LARGE_ROWS, True]
    print(
        f"publish in place: {CHANGED:,} changed rows of {LARGE_ROWS:,} in {large:.2f} s "
        f"without key ({large_size / 2**20:.0f} MiB), {large_k:.2f} s with "
        f"({large_size_k / 2**20:.0f} MiB); of {BASELINE_ROWS:,}: {base:.2f} s / {base_k:.2f} s"
    )
    print(f"  update, large / baseline, without key:  {large / base:.2f}x")
    print(f"  update, large / baseline, with key:     {large_k / base_k:.2f}x")
    print(f"  with key / without key, large:          {large_k / large:.1f}x")
    print(f"  file size with key / without, large:    {large_size_k / large_size:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
