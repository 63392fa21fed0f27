"""Warehouse files are in the storage format analysts' DuckDB 1.4 tools read: new files are
created in it, older working files are migrated once, and snapshots are written in it."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from store import duck
from store.publish import publish, snapshot_differences, stamp
from store.warehouse import open_working

LOGGER = "recon.progress"


def version_of(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return duck.storage_version(con)


def in_default_format(path: Path) -> Path:
    """A small warehouse as DuckDB writes it when nobody names a format: a keyed table with
    decimals, nulls and comments, and a view."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table fct_breaks (break_id varchar primary key, difference decimal(38, 8), "
            "first_seen_at timestamp)"
        )
        con.execute(
            "insert into fct_breaks select 'B' || i, i / 7, timestamp '2026-11-09' + to_hours(i) "
            "from range(2000) t(i)"
        )
        con.execute("insert into fct_breaks values ('B-null', null, null)")
        con.execute("comment on table fct_breaks is 'every break, kept across runs'")
        con.execute("comment on column fct_breaks.difference is 'actual minus expected'")
        con.execute("create view open_breaks as select * from fct_breaks where difference > 0")
    assert version_of(path) != duck.STORAGE_VERSION
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_working_warehouse_is_created_in_the_storage_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    work = tmp_path / "work" / "warehouse.duckdb"
    with open_working(work, tmp_path / "warehouse.duckdb") as con:
        assert duck.storage_version(con) == duck.STORAGE_VERSION == "v1.4.0"
        con.execute("create table t as select range as i from range(10)")
    assert caplog.records == []  # created so, not migrated
    # The format belongs to the file: a later plain connection writes it the same way.
    with duckdb.connect(str(work)) as con:
        con.execute("create table u as select 'x' as s")
        con.execute("checkpoint")
    assert version_of(work) == duck.STORAGE_VERSION


def test_a_working_file_in_the_default_format_is_migrated_once_keeping_every_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "work").mkdir()
    work = in_default_format(tmp_path / "work" / "warehouse.duckdb")
    original = shutil.copyfile(work, tmp_path / "original.duckdb")
    caplog.set_level(logging.INFO, logger=LOGGER)
    with open_working(work, tmp_path / "warehouse.duckdb") as con:
        assert duck.storage_version(con) == duck.STORAGE_VERSION
        con.execute("attach ? as original (read_only)", [str(original)])
        assert duck.differences(con, "original", current_database(con)) == []
        assert con.execute("select count(*) from open_breaks").fetchone() == (1999,)
        with pytest.raises(duckdb.ConstraintException):  # the key came along
            con.execute("insert into fct_breaks values ('B1', 0, null)")
    (line,) = [r.getMessage() for r in caplog.records]
    assert "storage version v2.0.0" in line and "migrated once to v1.4.0" in line
    assert files_in(work.parent) == ["warehouse.duckdb"]  # nothing left beside it
    caplog.clear()
    with open_working(work, tmp_path / "warehouse.duckdb") as con:
        assert con.execute("select count(*) from fct_breaks").fetchone() == (2001,)
    assert caplog.records == []  # once


def current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def test_a_migration_that_cannot_copy_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """VARIANT columns need storage version v1.5.0: the copy fails, the original stays."""
    work = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(work)) as con:
        con.execute("create table t as select 1::variant as v")
    before = work.read_bytes()
    with pytest.raises(duckdb.Error, match="VARIANT"):
        open_working(work, tmp_path / "published.duckdb")
    assert work.read_bytes() == before
    assert files_in(tmp_path) == ["warehouse.duckdb"]


def test_a_snapshot_is_in_the_storage_version_whatever_the_working_files(
    tmp_path: Path,
) -> None:
    """Publishing writes the snapshot table by table into a file it creates in the analysts'
    format, so even a working file in DuckDB's newer default gives a snapshot they can open."""
    work = in_default_format(tmp_path / "work.duckdb")
    now = datetime(2026, 11, 12, 2, 0)
    target = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(work)) as con:
        con.execute("drop view open_breaks")  # the pipeline's warehouse has tables only
        stamp(con, "run-1", now, now)
        published = publish(con, target, tmp_path / "snapshots", "run-1")
        con.execute("attach ? as snapshot (read_only)", [str(target)])
        assert snapshot_differences(con, "work", "snapshot") == []
    assert published.run_id == "run-1" and version_of(target) == duck.STORAGE_VERSION
    assert version_of(work) != duck.STORAGE_VERSION


def test_the_migration_check_sees_a_changed_row_a_missing_row_and_a_changed_comment(
    tmp_path: Path,
) -> None:
    original = in_default_format(tmp_path / "a.duckdb")
    changes = {
        "rows of fct_breaks differ": "update fct_breaks set difference = -1 where break_id = 'B8'",
        "rows of fct_breaks differ ": "delete from fct_breaks where break_id = 'B-null'",
        "columns differ": "comment on column fct_breaks.difference is 'changed'",
        "views differ": "create or replace view open_breaks as select * from fct_breaks",
    }
    for expected, change in changes.items():
        copy = shutil.copyfile(original, tmp_path / "b.duckdb")
        with duckdb.connect(str(copy)) as con:
            con.execute(change)
        with duckdb.connect() as con:
            con.execute("attach ? as a (read_only)", [str(original)])
            con.execute("attach ? as b (read_only)", [str(copy)])
            assert duck.differences(con, "a", "b") == [expected.strip()], change
            assert duck.differences(con, "a", "a") == []
