"""The production profile (deploy/) end to end: Dagster's instance in a real PostgreSQL, the
real `dagster-daemon` starting the `nightly` schedule's run through the queued run
coordinator, and `recon run` recording its run in the same database."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import (
    InstigatorStatus,
    InstigatorType,
    ScheduleInstigatorData,
)
from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

from assets.landing import landing_assets
from assets.recon import recon_assets
from assets.warehouse import POOL, warehouse_assets
from pipelines.schedules import RANGE_END_TAG, RANGE_START_TAG
from sandbox import JtConfig, WhaletConfig, World, WorldConfig, build_world
from tests.support.postgres import Postgres
from tests.support.production import DEPLOY, LOOKBACK_DAYS, production, published
from tests.support.worlds import pull_world

BIN = Path(sys.executable).parent
# The nightly run loads yesterday and LOOKBACK_DAYS days before it: the whole world.
WORLD_DAYS = LOOKBACK_DAYS + 1
TICK = (2, 30)  # pipelines/schedules.py: "30 2 * * *", UTC
# The run takes about 2 minutes alone on two cores, 4 on a busy machine (mostly starting a
# process for each of its steps, the DuckDB writers one after another).
RUN_TIMEOUT_SECONDS = 480


def tick_to_catch_up(margin: timedelta = timedelta(minutes=3)) -> datetime:
    """The newest 02:30 UTC tick that has passed, waiting for the next one if it is close.

    The schedule has no partition set, so a daemon that finds ticks missed since the schedule
    started launches only the newest: the tick a test can make it run is the newest passed one.
    Should the next tick be due within `margin` (the test runs at 02:27 UTC), the daemon might
    meet that one first, so the test waits for it and uses it instead.
    """
    now = datetime.now(UTC)
    tick = now.replace(hour=TICK[0], minute=TICK[1], second=0, microsecond=0)
    if tick > now:
        tick -= timedelta(days=1)
    upcoming = tick + timedelta(days=1)
    if upcoming - now < margin:
        time.sleep((upcoming - now).total_seconds() + 1)
        return upcoming
    return tick


def clean_world(tick: datetime) -> World:
    """Three providers, nothing planted (a run that finds no break succeeds whatever the
    checks' blocking), days ending the day before the tick."""
    cfg = WorldConfig(
        seed=31,
        customers=2,
        days=WORLD_DAYS,
        start_date=tick.date() - timedelta(days=WORLD_DAYS),
        entries_per_day=40,
        anomalies={},
        jt=JtConfig(users=2, records_per_day=20, anomalies={}),
        whalet=WhaletConfig(anomalies={}),
    )
    return build_world(cfg)


@contextmanager
def daemon(env: dict[str, str], cwd: Path) -> Iterator[Path]:
    """`dagster-daemon run` on deploy/workspace.yaml until the block ends; yields its log.

    It runs in a session of its own, so stopping it also stops the code server and any run
    worker it started, and nothing outlives the test."""
    log = cwd / "daemon.log"
    argv = [str(BIN / "dagster-daemon"), "run", "-w", str(DEPLOY / "workspace.yaml")]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            # Whatever of the session is still there; nothing is when all exited in time.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_nightly_from(instance: dg.DagsterInstance, env: dict[str, str], since: float) -> None:
    """Start the schedule as an operator does, then date its start back to `since`, so the
    daemon's first look finds the one tick after it still to run."""
    workspace = str(DEPLOY / "workspace.yaml")
    done = subprocess.run(
        [str(BIN / "dagster"), "schedule", "start", "nightly", "-w", workspace],
        env=env,
        cwd=env["DAGSTER_HOME"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (state,) = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    assert state.instigator_name == "nightly" and state.status == InstigatorStatus.RUNNING
    assert isinstance(state.instigator_data, ScheduleInstigatorData)
    cron = state.instigator_data.cron_schedule
    instance.update_instigator_state(state.with_data(ScheduleInstigatorData(cron, since)))


def stop_nightly(instance: dg.DagsterInstance) -> None:
    """No further tick: the next one may fall inside the test if it runs long."""
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE):
        instance.update_instigator_state(state.with_status(InstigatorStatus.STOPPED))


def wait_for_scheduled_run(instance: dg.DagsterInstance, log: Path) -> dg.RunRecord:
    """The nightly run, once it has finished; the schedule is stopped as soon as it exists."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    scheduled = dg.RunsFilter(tags={"dagster/schedule_name": "nightly"})
    stopped = False
    while time.monotonic() < deadline:
        records = instance.get_run_records(filters=scheduled)
        if records and not stopped:
            stop_nightly(instance)
            stopped = True
        if records and records[0].dagster_run.is_finished:
            (record,) = records
            return record
        time.sleep(2)
    tail = log.read_text(errors="replace")[-4000:]
    pytest.fail(f"no finished nightly run after {RUN_TIMEOUT_SECONDS}s; daemon log:\n{tail}")


EVENTS_OF_TYPE = "select count(*) from event_logs where run_id = %s and dagster_event_type = %s"
# Every step in the `warehouse` pool: the DuckDB writers.
WRITERS = sorted(
    a.op.name for a in (*landing_assets, *warehouse_assets, *recon_assets) if a.op.pool == POOL
)
WRITER_STEPS = """
    select step_key, min(timestamp), max(timestamp) from event_logs
    where run_id = %s and step_key = any(%s)
        and dagster_event_type in ('STEP_START', 'STEP_SUCCESS')
    group by step_key order by 2
"""


def overlapping_writers(pg: Postgres, run_id: str) -> list[tuple[str, str]]:
    """Pairs of DuckDB writer steps of the run that ran at the same time, which the pool's one
    slot should prevent across the multiprocess executor's workers."""
    steps = pg.query(WRITER_STEPS, (run_id, WRITERS))
    assert sorted(step for step, _, _ in steps) == WRITERS and len(WRITERS) > 20
    return [(a[0], b[0]) for a, b in itertools.pairwise(steps) if b[1] < a[2]]


def served_transactions(world: World) -> set[tuple[Any, ...]]:
    return {
        (int(c["customer_id"]), e["transaction_id"], int(e["in_out_type"]), e["amount"])
        for c in pull_world(world)
        for e in c["entries"]
    }


def test_recon_run_records_its_run_and_events_in_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = WorldConfig(
        seed=32,
        customers=2,
        days=2,
        entries_per_day=40,
        anomalies={},
        jt=JtConfig(anomalies={}),
        whalet=WhaletConfig(anomalies={}),
    )
    world = build_world(cfg)
    with production(world, tmp_path, monkeypatch) as (pg, env):
        run_id = recon_run(env, tmp_path, cfg.start_date, cfg.start_date + timedelta(days=2))
        assert pg.query("select run_id, pipeline_name, status from runs") == [
            (run_id, "recon", "SUCCESS")
        ]
        ((events,),) = pg.query("select count(*) from event_logs where run_id = %s", (run_id,))
        assert events > 100  # every step's start, materialisations and checks
        # In process too, the DuckDB writers took slots of the pool deploy/dagster.yaml limits.
        assert pg.query(
            'select concurrency_key, "limit", using_default_limit from concurrency_limits'
        ) == [("warehouse", 1, True)]


# Slow (make soak): a run under the daemon starts a process per step (about 4 minutes here);
# the default suite keeps PostgreSQL storage through `recon run` and the in-process run.
@pytest.mark.slow
def test_the_daemon_runs_the_nightly_schedule_with_postgresql_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the daemon is made to run a chosen tick: the schedule is started with
    `dagster schedule start` (as an operator would), then its instigator state's start time is
    set one minute before the newest 02:30 UTC tick that has passed. The daemon's scheduler
    launches the ticks between a schedule's start and now, only the newest of them for a
    schedule without a partition set such as `nightly`: here exactly the chosen tick, which it
    evaluates at once in its code server, with the schedule's own resources. The world is dated
    so that the tick's range (yesterday and three lookback days) covers its days."""
    tick = tick_to_catch_up()
    world = clean_world(tick)
    first, last = tick.date() - timedelta(days=WORLD_DAYS), tick.date() - timedelta(days=1)
    with production(world, tmp_path, monkeypatch) as (pg, env):
        data = Path(env["RECON_DATA_DIR"])
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            start_nightly_from(instance, env, (tick - timedelta(minutes=1)).timestamp())
            with daemon(env, tmp_path) as log:
                record = wait_for_scheduled_run(instance, log)
        run = record.dagster_run
        assert run.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-4000:]
        assert run.tags[SCHEDULED_EXECUTION_TIME_TAG] == tick.isoformat()
        assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == (
            first.isoformat(),
            last.isoformat(),
        )
        assert pg.query("select run_id, pipeline_name, status from runs") == [
            (run.run_id, "recon", "SUCCESS")
        ]
        assert pg.query("select status from job_ticks where type = 'SCHEDULE'") == [("SUCCESS",)]
        # Queued, then started by the daemon: the queued run coordinator.
        enqueued = dg.DagsterEventType.RUN_ENQUEUED.value
        assert pg.query(EVENTS_OF_TYPE, (run.run_id, enqueued)) == [(1,)]
        assert not overlapping_writers(pg, run.run_id)
        assert published(data, "select run_id from recon_publication") == [(run.run_id,)]
        loaded = published(
            data,
            "select customer_id, transaction_id, in_out_type, amount "
            "from raw_openapi__transactions",
        )
        assert set(loaded) == served_transactions(world) and len(loaded) > 100
        jt_rows, _, _ = world.jt.records_window(None, 0, world.end, world.now)
        assert published(data, "select count(*) from raw_jt__balance_records") == [(len(jt_rows),)]
        assert published(data, "select count(*) > 0 from raw_whalet__balances") == [(True,)]
        assert published(data, "select count(*) from fct_breaks") == [(0,)]


def recon_run(env: dict[str, str], cwd: Path, start: date, end: date) -> str:
    """`recon run` against the production instance (DAGSTER_HOME); the id of the run it
    published, as the snapshot records it."""
    done = subprocess.run(
        [str(BIN / "recon"), "run", "--start", start.isoformat(), "--end", end.isoformat()],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "breaks: none, every check passed" in done.stdout
    ((run_id,),) = published(Path(env["RECON_DATA_DIR"]), "select run_id from recon_publication")
    assert isinstance(run_id, str)
    return run_id
