"""The two snapshot slots: which one a night writes, how it is swapped in, when it is copied."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb

from store import duck
from store.publish import publish, stamp, standby_slot, why_copy_whole

MIB = 2**20


def _working(path: Path, run_id: str) -> Path:
    with duck.connect_file(path) as con:
        con.execute("create or replace table t as select 1 as x")
        now = datetime(2026, 11, 12, 2, 0)
        stamp(con, run_id, now, now)
    return path


def _run_in(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("select run_id from recon_publication").fetchone()
    assert row is not None
    return str(row[0])


def test_nights_alternate_between_the_slots_and_the_published_file_is_one_of_them(
    tmp_path: Path,
) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    written = []
    for night in range(4):
        work = _working(tmp_path / "work.duckdb", f"run-{night}")
        slot = standby_slot(target, slots)
        publish(work, target, slots, f"run-{night}")
        written.append(slot.name)
        # The published file is the slot just written, by a hard link: no second copy.
        assert os.path.samefile(target, slot)
        assert _run_in(target) == f"run-{night}"
    assert written == ["a.duckdb", "b.duckdb", "a.duckdb", "b.duckdb"]
    # The other slot still holds the night before, whole, for a reader who opened it then.
    assert _run_in(slots / "a.duckdb") == "run-2"
    assert not list(tmp_path.glob(".*"))  # nothing left beside the published file


def test_a_data_dir_from_before_the_slots_is_carried_over(tmp_path: Path) -> None:
    target, slots = tmp_path / "warehouse.duckdb", tmp_path / "snapshots"
    _working(target, "old")  # a published file that is no slot
    publish(_working(tmp_path / "work.duckdb", "new"), target, slots, "new")
    assert _run_in(target) == "new" and os.path.samefile(target, slots / "a.duckdb")


def test_the_standby_is_copied_whole_unless_set_to_be_updated_in_place() -> None:
    assert why_copy_whole(10 * MIB, None, False) == (
        "the default (RECON_SNAPSHOT_UPDATE_MIN_MB unset)"
    )
    assert "below RECON_SNAPSHOT_UPDATE_MIN_MB" in str(why_copy_whole(10 * MIB, 11 * MIB, False))
    assert why_copy_whole(11 * MIB, 11 * MIB, False) is None
    assert why_copy_whole(11 * MIB, 0, True) == "this run re-checked all history"
