"""The published snapshot: analysts read it at any time, even while `recon run` writes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines import cli
from sandbox import WorldConfig, build_world
from store import duck, publish
from store.publish import read_dictionary
from tests.support.harness import completed, harness
from tests.support.snapshot_reader import signature

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORLD = WorldConfig(seed=5, customers=2, days=4, entries_per_day=80, anomalies={"chain_gap": 1})


def recon_run(first_day: int, last_day: int) -> None:
    start = WORLD.start_date + timedelta(days=first_day)
    end = WORLD.start_date + timedelta(days=last_day + 1)
    assert cli.main(["run", "--start", str(start), "--end", str(end)]) == 0


def published_signature(path: Path) -> dict[str, Any]:
    with duckdb.connect(str(path), read_only=True) as con:
        return signature(con)


def test_a_reader_during_a_full_run_sees_one_whole_run_and_never_a_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        # `recon run` uses the test's instance: instance_for_test points DAGSTER_HOME at it.
        monkeypatch.setenv("RECON_DATA_DIR", str(h.data_dir))
        recon_run(0, 1)
        published = h.data_dir / "warehouse.duckdb"
        first = published_signature(published)
        out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
        reader = subprocess.Popen(
            [sys.executable, "-m", "tests.support.snapshot_reader", published, out, stop],
            cwd=PROJECT_ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while not out.exists() or out.stat().st_size == 0:
                # The reader is reading before the run starts.
                assert reader.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)
            recon_run(0, 3)
            second = published_signature(published)
        finally:
            stop.touch()
            reader.wait(timeout=60)
    assert reader.returncode == 0
    reads = [json.loads(line) for line in out.read_text().splitlines()]
    errors = [r["error"] for r in reads if "error" in r]
    assert errors == []
    assert first["run_id"] != second["run_id"]
    assert second["runs_in_counts"] == first["runs_in_counts"] + 1
    # Every read saw one run whole: exactly the first run's tables or the second's.
    assert all(r in (first, second) for r in reads)
    assert reads[0] == first and reads[-1] == second
    assert len(reads) >= 20
    # Three tables written at different moments of a run agree on which run it was.
    for r in (first, second):
        assert r["published_run_at"] == r["breaks_last_seen"] == r["counts_last_run"]


def test_the_pipeline_never_writes_the_published_file_and_resumes_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        # The run finds breaks and succeeds (breaks are findings, not a failed pipeline).
        assert completed(h.run(WORLD.start_date, WORLD.start_date + timedelta(days=1)))
        work = h.data_dir / "work" / "warehouse.duckdb"
        assert work.exists() and h.published.exists()
        breaks = h.query("select break_id, status, first_seen_at from fct_breaks")
        assert any(status == "open" for _, status, _ in breaks)
        comments = h.query(
            "select table_name, comment from duckdb_tables() where table_name like 'fct_%'"
        )
        # A second name for the published file: after the next run it shows whether the
        # file analysts had open was ever written to (it must not be; it is replaced).
        kept = tmp_path / "previous-snapshot.duckdb"
        os.link(h.published, kept)
        before = kept.stat()
        # A lost working copy is rebuilt from the last snapshot: history carries on.
        work.unlink()
        h.run(WORLD.start_date, WORLD.start_date + timedelta(days=1))
        after = kept.stat()
        assert h.published.stat().st_ino != before.st_ino
        assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
        again = h.query("select break_id, status, first_seen_at from fct_breaks")
        runs = h.query("select count(distinct run_at) from fct_break_counts")[0][0]
    assert breaks and sorted(again) == sorted(breaks)
    assert runs == 2
    docs = read_dictionary()
    assert {t: docs[t].description for t, _ in comments} == dict(comments)


@pytest.mark.slow  # a run killed between stamp and swap; make soak
def test_a_run_that_never_published_leaves_no_trace_in_the_break_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run 2 is stamped but its swap fails (as a kill between stamp and rename would leave
    it): run 3 counts and dates breaks as if run 2 had never been, like the snapshot does."""
    world = build_world(WORLD)
    first, last = WORLD.start_date, WORLD.start_date + timedelta(days=1)
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run(first, last))
        published = h.query("select run_id from recon_publication")
        # Something in the way of the copy beside the snapshot: the swap cannot happen.
        blocker = h.published.with_name(f".{h.published.name}.publishing")
        blocker.mkdir()
        assert not h.run(first, last).success
        work = h.data_dir / "work" / "warehouse.duckdb"
        with duckdb.connect(str(work), read_only=True) as con:
            stamped = con.execute("select run_id, run_at from recon_publication").fetchone()
        assert stamped is not None and [(stamped[0],)] != published
        assert h.query("select run_id from recon_publication") == published
        blocker.rmdir()
        assert completed(h.run(first, last))
        run_ats = {r[0] for r in h.query("select distinct run_at from fct_break_counts")}
        seen = h.query(
            "select first_seen_at, last_seen_at, opened_at from fct_breaks "
            "where ? in (first_seen_at, last_seen_at, opened_at)",
            [stamped[1]],
        )
    assert len(run_ats) == 2 and stamped[1] not in run_ats
    assert seen == []


@pytest.mark.slow  # a damaged working file; make soak
def test_a_working_warehouse_that_cannot_be_read_is_set_aside_and_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(WORLD)
    first, last = WORLD.start_date, WORLD.start_date + timedelta(days=1)
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run(first, last))
        history = h.query("select break_id, first_seen_at from fct_breaks order by 1")
        work = h.data_dir / "work" / "warehouse.duckdb"
        with work.open("r+b") as broken:  # as `truncate -s 0` leaves it
            broken.truncate(0)
        caplog.set_level(logging.WARNING, logger="recon.progress")
        assert completed(h.run(first, last))
        again = h.query("select break_id, first_seen_at from fct_breaks order by 1")
    aside = list(work.parent.glob("warehouse.duckdb.unreadable-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == 0
    assert "set aside" in caplog.text and "rebuilt from the published snapshot" in caplog.text
    # The history carries on from the snapshot: the same breaks, first seen when they were.
    assert history and again == history


def rewrite_in_default_format(path: Path) -> None:
    """The same warehouse as DuckDB writes it when no storage version is named, as data dirs
    made before the pipeline named one hold it."""
    copy = path.with_name("default-format.duckdb")
    with duckdb.connect() as con:
        con.execute("attach ? as original (read_only)", [str(path)])
        con.execute("attach ? as copy", [str(copy)])
        con.execute("copy from database original to copy")
    os.replace(copy, path)


def storage_version_of(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return duck.storage_version(con)


@pytest.mark.slow  # an upgrade path of one release; make soak
def test_a_data_dir_from_before_the_storage_version_is_migrated_once_with_its_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(WORLD)
    first, last = WORLD.start_date, WORLD.start_date + timedelta(days=1)
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run(first, last))
        work = h.data_dir / "work" / "warehouse.duckdb"
        for path in (work, h.published):
            rewrite_in_default_format(path)
            assert storage_version_of(path) == "v2.0.0"
        history = h.query("select break_id, status, first_seen_at from fct_breaks order by 1")
        caplog.set_level(logging.WARNING, logger="recon.progress")
        assert completed(h.run(first, last))
        again = h.query("select break_id, status, first_seen_at from fct_breaks order by 1")
        runs = h.query("select count(distinct run_at) from fct_break_counts")[0][0]
    migrated = [r.getMessage() for r in caplog.records if "migrated once" in r.getMessage()]
    assert len(migrated) == 1 and str(work) in migrated[0]
    assert storage_version_of(work) == storage_version_of(h.published) == duck.STORAGE_VERSION
    with duckdb.connect() as con:  # the snapshot holds the migrated working warehouse
        con.execute("attach ? as work (read_only)", [str(work)])
        con.execute("attach ? as snapshot (read_only)", [str(h.published)])
        assert publish.snapshot_differences(con, "work", "snapshot") == []
    assert list(work.parent.iterdir()) == [work]
    # The history carries on: the same breaks, first seen when they were, and both runs.
    assert history and again == history
    assert runs == 2
