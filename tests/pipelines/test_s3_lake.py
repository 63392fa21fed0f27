"""The lake in an S3 bucket (moto on loopback): a full run lands, loads and checks exactly what
the same run with the lake on disk does, and every landed file is an object under the prefix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox import FaultConfig, JtConfig, WhaletConfig, WorldConfig, build_world
from tests.support.harness import Harness, completed, harness
from tests.support.s3 import BUCKET, s3_server

WORLD = WorldConfig(
    seed=17,
    customers=2,
    days=2,
    entries_per_day=40,
    anomalies={"chain_gap": 1, "entry_arithmetic": 1, "wallet_balance_mismatch": 1},
    jt=JtConfig(users=3, records_per_day=60, anomalies={"jt_balance_composition": 1}),
    whalet=WhaletConfig(users=2, anomalies={"money_unit_mismatch": 2}),
)
FIRST, LAST = WORLD.start_date, WORLD.start_date + timedelta(days=WORLD.days - 1)
# The first row of every page is refused: quarantine files land beside the windows too.
FAULTS = FaultConfig(rates={"row_not_object": 1.0})
PREFIX = "nightly/lake"
# Where a file was landed and when it was read differ between two runs by design.
RUN_SPECIFIC = {"fetched_at", "source_file", "window_end"}
BREAKS = (
    "select break_id, check_name, status, severity, currency, expected, actual, difference "
    "from fct_breaks order by break_id"
)


def landed(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw table, the quarantine and the window counts, without lineage and clocks."""
    tables = h.query(
        "select table_name, list(column_name order by column_index) from duckdb_columns() "
        "where table_name like 'raw\\_%' escape '\\' "
        "or table_name in ('quarantine', 'landed_windows') group by 1 order by 1"
    )
    out = {}
    for table, columns in tables:
        kept = [f'"{c}"' for c in columns if not c.startswith("_") and c not in RUN_SPECIFIC]
        out[table] = h.query(f"select {', '.join(kept)} from {table} order by all")
    return out


def sources(h: Harness) -> set[str]:
    """Every file a raw table's row or a window count names as its source."""
    tables = [r[0] for r in h.query("select table_name from duckdb_tables()")]
    found = {r[0] for r in h.query("select source_file from landed_windows")}
    for table in tables:
        if table.startswith("raw_"):
            found |= {r[0] for r in h.query(f"select distinct _source_file from {table}")}
    return found


def test_a_run_with_the_lake_in_a_bucket_finds_what_a_local_lake_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECON_LAKE_URL", raising=False)
    world = build_world(WORLD)
    with harness(world, tmp_path / "local", monkeypatch, all_providers=True, faults=FAULTS) as h:
        assert completed(h.run(FIRST, LAST))
        local_rows, local_breaks, local_sources = landed(h), h.query(BREAKS), sources(h)
    with s3_server(monkeypatch) as s3:
        monkeypatch.setenv("RECON_LAKE_URL", f"s3://{BUCKET}/{PREFIX}")
        monkeypatch.setenv("RECON_LAKE_ENDPOINT_URL", s3.endpoint_url)
        world = build_world(WORLD)
        with harness(world, tmp_path / "s3", monkeypatch, all_providers=True, faults=FAULTS) as h:
            assert completed(h.run(FIRST, LAST))
            rows, found, named = landed(h), h.query(BREAKS), sources(h)
            keys = s3.keys(PREFIX)
            assert not (h.data_dir / "lake").exists()
    assert set(rows) == set(local_rows)
    for table in rows:
        assert rows[table] == local_rows[table], table
    assert rows["raw_openapi__transactions"] and rows["raw_jt__users"] and rows["quarantine"]
    assert found == local_breaks
    assert {b[1] for b in found} >= {"chain_gap", "entry_arithmetic", "money_unit_mismatch"}
    # Lineage names the objects; every object is a whole landed file, none a temporary.
    assert all(s.startswith(f"s3://{BUCKET}/{PREFIX}/provider=") for s in named), named
    assert {s.removeprefix("s3://") for s in named} <= set(keys)
    assert len(named) == len(local_sources)
    assert not [k for k in keys if k.rsplit("/", 1)[1].startswith(".")]
    for provider in ("openapi", "jt", "whalet"):
        assert any(k.startswith(f"{BUCKET}/{PREFIX}/provider={provider}/") for k in keys)
    windows = [k for k in keys if k.endswith("/data.parquet")]
    assert len(windows) == WORLD.days * 4  # three OPEN-API entities and JT's records
