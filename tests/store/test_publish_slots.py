"""The two snapshot slots: which one a night writes, how it is swapped in, when it is built
whole, and what a snapshot leaves out (keys, the change log)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from store import duck, maintain
from store.publish import publish, snapshot_differences, stamp, standby_slot
from store.warehouse import ensure_raw_tables, open_working

NIGHT = datetime(2026, 11, 12, 2, 0)
LEDGER = "raw_openapi__transactions"


def _night(con: duckdb.DuckDBPyConnection, night: int) -> str:
    """The working warehouse as a run leaves it: its raw tables, a table rebuilt every run,
    its changes consumed, stamped and checkpointed."""
    run_id, run_at = f"run-{night}", NIGHT + timedelta(days=night)
    ensure_raw_tables(con)
    con.execute("create or replace table fct_t as select range as x from range(?)", [night + 1])
    maintain.consume_changes(con, run_at)
    stamp(con, run_id, run_at, run_at)
    return run_id


def _run_in(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("select run_id from recon_publication").fetchone()
    assert row is not None
    return str(row[0])


def test_nights_alternate_between_the_slots_and_each_after_the_first_two_is_an_update(
    tmp_path: Path,
) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    written, how = [], []
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        for night in range(4):
            run_id = _night(con, night)
            slot = standby_slot(target, slots)
            published = publish(con, target, slots, run_id)
            written.append(slot.name)
            how.append(published.how)
            # The published file is the slot just written, by a hard link: no second copy.
            assert os.path.samefile(target, slot)
            assert _run_in(target) == run_id
            con.execute("attach ? as snapshot (read_only)", [str(target)])
            try:
                assert snapshot_differences(con, "work", "snapshot") == []
            finally:
                con.execute("detach snapshot")
    assert written == ["a.duckdb", "b.duckdb", "a.duckdb", "b.duckdb"]
    assert (
        how
        == ["built whole: there is no standby snapshot yet"] * 2
        + ["brought up to date with the changes"] * 2
    )
    # The other slot still holds the night before, whole, for a reader who opened it then.
    assert _run_in(slots / "a.duckdb") == "run-2"
    assert not list(tmp_path.glob(".*"))  # nothing left beside the published file


def test_a_snapshot_has_every_table_but_the_change_log_and_no_keys(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        publish(con, target, slots, _night(con, 0))
    with duckdb.connect(str(target), read_only=True) as snap:
        tables = {r[0] for r in snap.execute("select table_name from duckdb_tables()").fetchall()}
        keys = snap.execute(
            "select count(*) from duckdb_constraints() "
            "where constraint_type in ('PRIMARY KEY', 'UNIQUE')"
        ).fetchone()
        nullable = snap.execute(
            "select is_nullable from duckdb_columns() "
            "where table_name = ? and column_name = 'transaction_id'",
            [LEDGER],
        ).fetchone()
    assert {LEDGER, "fct_t", "recon_publication", "landed_windows"} <= tables
    assert not tables & maintain.PIPELINE_ONLY
    assert keys == (0,)
    assert nullable == (False,)  # a key column keeps its NOT NULL


def test_a_slot_from_before_snapshots_left_keys_out_is_built_whole(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        publish(con, target, slots, _night(con, 0))
        publish(con, target, slots, _night(con, 1))
        # What the byte copy of earlier versions left in slot a: the working file itself.
        keyed = slots / "a.duckdb"
        keyed.unlink()
        shutil.copyfile(tmp_path / "work.duckdb", keyed)
        published = publish(con, target, slots, _night(con, 2))
    assert published.how == (
        "built whole: the standby snapshot has keys (made before snapshots left them out)"
    )
    assert os.path.samefile(target, keyed) and _run_in(target) == "run-2"


def test_a_standby_older_than_the_kept_changes_is_built_whole(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        publish(con, target, slots, _night(con, 0))
        # A load's change to the ledger, consumed by run-1.
        con.execute(f"insert into {maintain.changes_table(LEDGER)} (customer_id) values (7)")
        publish(con, target, slots, _night(con, 1))
        # A week and more later, the changes since run-0 (in slot a) are gone.
        published = publish(con, target, slots, _night(con, 9))
    assert published.how == (
        "built whole: the standby snapshot (run run-0) is older than the changes kept"
    )


def test_a_full_recheck_builds_the_standby_whole(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        for night in range(2):
            publish(con, target, slots, _night(con, night))
        published = publish(con, target, slots, _night(con, 2), full=True)
    assert published.how == "built whole: this run re-checked all history"


def test_a_data_dir_from_before_the_slots_is_carried_over(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    with duck.connect_file(target) as old:  # a published file that is no slot
        old.execute("create table t as select 1 as x")
    with duck.connect_file(tmp_path / "work.duckdb") as con:
        publish(con, target, slots, _night(con, 0))
    assert _run_in(target) == "run-0" and os.path.samefile(target, slots / "a.duckdb")


def test_a_working_file_rebuilt_from_the_snapshot_gets_its_keys_back(tmp_path: Path) -> None:
    """A lost working file is rebuilt from the published snapshot: its keys are back (loads
    upsert by them), and the older slot is built whole, not updated from changes the
    rebuilt file never saw."""
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    work = tmp_path / "work" / "warehouse.duckdb"
    with open_working(work, target) as con:
        publish(con, target, slots, _night(con, 0))
        publish(con, target, slots, _night(con, 1))
    work.unlink()
    with open_working(work, target) as con:
        keys = con.execute(
            "select constraint_text from duckdb_constraints() "
            "where table_name = ? and constraint_type = 'PRIMARY KEY'",
            [LEDGER],
        ).fetchall()
        assert keys == [("PRIMARY KEY(customer_id, transaction_id, in_out_type, currency)",)]
        assert con.execute("select count(*) from fct_t").fetchone() == (2,)
        assert maintain.changes_pruned_through(con) == NIGHT + timedelta(days=1)
        published = publish(con, target, slots, _night(con, 2))
    assert published.how == (
        "built whole: the standby snapshot (run run-0) is older than the changes kept"
    )
