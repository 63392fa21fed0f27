"""Incremental nights equal a full re-check (reconciliation.md §5, issue 15 acceptance 4).

Each world runs night after night with a lookback, its provider correcting booked rows
between nights (a redelivered amount, a record_id moved to another order, a hidden row that
turns up), late rows arriving and statuses settling. After every night, a copy of the working
warehouse is re-checked in full at the same run time: every model the night maintained by key
must equal its full rebuild, and so must the findings and `fct_breaks`.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from pipelines.schedules import FULL_RECHECK_TAG, nightly_days
from sandbox import JtConfig, World, WorldConfig, build_world
from store import breaks, duck, maintain, publish
from store.break_workflow import apply_workflow
from tests.support.harness import Harness, completed, harness

START = datetime(2026, 11, 9, tzinfo=UTC)
BASE = WorldConfig(
    customers=2,
    days=6,
    start_date=START.date(),
    entries_per_day=40,
    late_entry_rate=0.2,
    jt=JtConfig(users=2, records_per_day=20),
)
WORLDS = {
    "clean": replace(BASE, seed=11),
    "ledger": replace(BASE, seed=12).with_anomalies(
        chain_gap=2, entry_arithmetic=1, duplicate_entry=1, wallet_balance_mismatch=1
    ),
    "exchanges": replace(BASE, seed=13).with_anomalies(
        fx_missing_leg=2, fx_amount_mismatch=1, fx_rate_deviation=1
    ),
    "cards": replace(BASE, seed=14).with_anomalies(
        order_debit_missing=1, order_debit_mismatch=1, card_balance_mismatch=1
    ),
    "jt": replace(
        BASE, seed=15, jt=JtConfig(users=2, records_per_day=20, anomalies={"chain_gap": 1})
    ).with_anomalies(chain_gap=1, duplicate_entry=1),
}
NIGHTS = 5
LOOKBACK = 1
# The night before which an analyst opens the published snapshot and keeps it open: two
# nights on, its slot is the standby, which the pipeline must not wait for or write.
READER_NIGHT = 2


def _correct_booked_rows(world: World, night: datetime, rng: random.Random) -> list[str]:
    """The provider changes rows of days the next night loads again: what a redelivery is."""
    lo = int((night - timedelta(days=LOOKBACK + 1)).timestamp())
    hi = int((night - timedelta(days=1)).timestamp())
    done: list[str] = []
    entries = [
        e
        for c in world.customers
        for e in c.entries
        if lo <= e.transaction_time < hi and e.create_at < hi
    ]
    if not entries:
        return done
    changed = rng.choice(entries)
    changed.served_amount = changed.amount + 1234
    done.append(f"amount of {changed.transaction_id}")
    # An order's debit re-booked against another order: the order it left must be re-derived
    # (the old version of the row names it), as well as the one it joins.
    orders = {o.order_id for c in world.customers for o in c.orders}
    debits = [e for e in entries if e.record_id in orders and e is not changed]
    if len(debits) >= 2:
        a, b = rng.sample(debits, 2)
        a.record_id = b.record_id
        done.append(f"record_id of {a.transaction_id}")
    hidden = [e for e in entries if e.hidden]
    if hidden:
        hidden[0].hidden = False
        done.append(f"{hidden[0].transaction_id} turns up")
    return done


# An analyst's DuckDB in another process (a lock is per process): it opens the snapshot,
# says which run it holds, and says it again when asked, before it closes.
_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select run_id from recon_publication").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("select run_id from recon_publication").fetchone()[0], flush=True)
"""


def _open_reader(path: Path) -> tuple[subprocess.Popen[str], str]:
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    return reader, reader.stdout.readline().strip()


def _read_again(reader: subprocess.Popen[str]) -> str:
    out, _ = reader.communicate("again\n", timeout=60)
    return out.strip()


def _said(result: dg.ExecuteInProcessResult, asset: str) -> list[str]:
    """How each materialisation of `asset` in the run says it was made."""
    return [
        str(e.materialization.metadata["how"].value)
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(asset)
    ]


def _published_is_the_working_warehouse(h: Harness) -> None:
    """Brought up to date or built whole, the snapshot holds exactly the working warehouse:
    every table, comment and row, but the keys and the pipeline's change log."""
    with duckdb.connect() as con:
        con.execute("attach ? as work (read_only)", [str(h.data_dir / "work" / "warehouse.duckdb")])
        con.execute("attach ? as snapshot (read_only)", [str(h.published)])
        assert publish.snapshot_differences(con, "work", "snapshot") == []


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def _by_name(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Every column of `table` in the order of their names: a table rebuilt from its SQL may
    order columns another way than one a run has added columns to."""
    names = sorted(r[0] for r in con.execute(f"describe {table}").fetchall())
    return "select " + ", ".join(f'"{n}"' for n in names) + f" from {table}"


def _recheck_in_full(h: Harness, copy: Path) -> None:
    """The night's warehouse, re-checked in full at the night's run time, equals it."""
    work = h.data_dir / "work" / "warehouse.duckdb"
    shutil.copyfile(work, copy)
    with duck.connect_file(copy) as con:
        row = con.execute(f"select max(run_at) from {breaks.BREAK_COUNTS}").fetchone()
        assert row and row[0] is not None
        run_at: datetime = row[0]
        incremental = {m: _rows(con, _by_name(con, m)) for m in maintain.MAINTAINED}
        found = _rows(con, "select * from int_breaks__found")
        folded = _rows(con, _by_name(con, breaks.BREAKS))
        # Nothing left pending: the night consumed every change it re-derived.
        for m in maintain.STAGING:
            (raw,) = m.inputs
            table = maintain.changes_table(raw)
            left = con.execute(
                f"select count(*) from {table} where _consumed_at is null"
            ).fetchone()
            assert left == (0,), raw
        for m in maintain.STAGING:
            maintain.build_whole(con, m.model, run_at)
        # The fold at the same run time over the same findings changes nothing (it is the
        # same function of the previous breaks and the findings).
        breaks.reconcile(con, breaks.Settings(), run_at, full=True)
        apply_workflow(con, [])  # as the night did: no analyst acted in these worlds
        for model, rows in incremental.items():
            assert rows == _rows(con, _by_name(con, model)), f"{model} differs from full"
        assert found == _rows(con, "select * from int_breaks__found")
        assert folded == _rows(con, _by_name(con, breaks.BREAKS))


# One world in the default suite, all five in the slow one (`make soak`): each is five runs.
DEFAULT_WORLDS = ("ledger",)


@pytest.mark.parametrize(
    "name",
    [n if n in DEFAULT_WORLDS else pytest.param(n, marks=pytest.mark.slow) for n in WORLDS],
)
def test_incremental_nights_equal_a_full_recheck(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLDS[name])
    rng = random.Random(name)
    first_night = START + timedelta(days=2, hours=2)
    world.set_now(first_night)
    staged: list[str] = []
    published: list[str] = []
    corrected: list[str] = []
    reader: subprocess.Popen[str] | None = None
    with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
        for n in range(NIGHTS):
            night = first_night + timedelta(days=n)
            if n:
                corrected += _correct_booked_rows(world, night, rng)
                world.advance(86_400)
            if n == READER_NIGHT:
                reader, seen = _open_reader(h.published)
            # The last night is the weekly full re-check.
            full = {"full_recheck": n == NIGHTS - 1}
            result = h.run(*nightly_days(night, "UTC", LOOKBACK), recon=full)
            assert completed(result)
            staged += _said(result, "stg_openapi__transactions")
            published += _said(result, "warehouse_snapshot")
            _recheck_in_full(h, tmp_path / f"night{n}.duckdb")
            _published_is_the_working_warehouse(h)
        assert reader is not None
        # The reader's snapshot was never written under it.
        assert _read_again(reader) == seen
    assert published[:2] == ["built whole: there is no standby snapshot yet"] * 2
    assert published[2] == "brought up to date with the changes"
    assert published[3].startswith("built whole: the standby snapshot is in use")
    assert published[4] == "built whole: this run re-checked all history"
    # The first night builds whole and the later ones re-derive by key, so the comparisons
    # above were of maintained tables, after corrections the provider made; a full re-check
    # rebuilds whole.
    assert staged == ["rebuilt whole"] + ["changed rows re-derived"] * (NIGHTS - 2) + [
        "rebuilt whole"
    ]
    assert any(c.startswith("record_id") for c in corrected), corrected


@pytest.mark.parametrize(
    ("setting", "full_on"),
    [(None, {"Sunday"}), ("wednesday", {"Wednesday"}), ("never", set())],
)
def test_the_nightly_schedule_rechecks_everything_once_a_week(
    setting: str | None, full_on: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.definitions import defs
    from pipelines.resources import default_resources

    if setting is None:
        monkeypatch.delenv("RECON_FULL_RECHECK_DAY", raising=False)
    else:
        monkeypatch.setenv("RECON_FULL_RECHECK_DAY", setting)
    schedule = defs.resolve_schedule_def("nightly")
    full: set[str] = set()
    for day in range(7):
        now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC) + timedelta(days=day)
        with dg.build_schedule_context(
            scheduled_execution_time=now, resources=default_resources()
        ) as context:
            (request,) = schedule.evaluate_tick(context).run_requests or []
        recon = request.run_config.get("resources", {}).get("recon", {}).get("config", {})
        if recon.get("full_recheck"):
            assert request.tags[FULL_RECHECK_TAG] == "true"
            full.add(now.strftime("%A"))
        else:
            assert FULL_RECHECK_TAG not in request.tags
    assert full == full_on


def test_a_misspelt_full_recheck_day_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from assets.resources import ReconResource

    monkeypatch.setenv("RECON_FULL_RECHECK_DAY", "sundy")
    with pytest.raises(ValueError, match="RECON_FULL_RECHECK_DAY"):
        ReconResource().full_recheck_weekday()
