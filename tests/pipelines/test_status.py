"""The run's status tells the truth about the pipeline: breaks found is a successful run with
failed checks, a pipeline failure is a failed run that is alerted, and a run that could load
nothing is no clean night."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from sandbox import WorldConfig, build_world
from tests.support.harness import Harness, completed, harness
from tests.support.receivers import HttpReceiver

WORLD = WorldConfig(seed=5, customers=1, days=2, anomalies={"chain_gap": 1})
HOOK, SLACK = "/hook", "/slack"


def test_a_run_that_finds_breaks_succeeds_with_its_checks_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        result = h.run_job(WORLD.start_date, WORLD.start_date)
        (record,) = h.instance.get_run_records()
        open_errors = h.query(
            "select count(*) from fct_breaks where status = 'open' and severity = 'error'"
        )
    assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS and result.success
    assert open_errors == [(1,)]
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_check_key.asset_key.to_user_string() for e in failed] == ["chain_gap"]


def test_a_run_with_a_wrong_key_fails_and_is_alerted_once_naming_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    receiver = HttpReceiver()
    receiver.start()
    try:
        with harness(world, tmp_path, monkeypatch) as h:
            (cred,) = world.credentials()
            wrong = "0" * 32
            monkeypatch.setenv(
                "OPENAPI_CUSTOMERS", f"{cred['customer_id']}:{cred['app_id']}:{wrong}"
            )
            monkeypatch.setenv("RECON_ALERT_WEBHOOK_URL", receiver.url(HOOK))
            result = h.run_job(WORLD.start_date, WORLD.start_date)
            (record,) = h.instance.get_run_records()
            failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
            # The daemon's run-failure sensor reports the same run again: no second alert to
            # the webhook that heard it, while a destination added since hears it once.
            monkeypatch.setenv("RECON_ALERT_SLACK_URL", receiver.url(SLACK))
            sensor_says(h, record.dagster_run)
            sensor_says(h, record.dagster_run)
    finally:
        receiver.stop()
    assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE and not result.success
    alerts = [b for b in receiver.bodies(HOOK) if b.get("event") == "run_failed"]
    assert len(alerts) == 1, receiver.posts
    (alert,) = alerts
    assert alert["run_id"] == result.run_id and alert["step"] in failed_steps
    assert alert["step"].startswith("lake_openapi__")
    assert f"customer {cred['customer_id']}" in alert["error"]
    assert wrong not in str(receiver.posts) and cred["key"] not in str(receiver.posts)
    # No break alert either: nothing new was published.
    assert all(b.get("event") == "run_failed" for b in receiver.bodies(HOOK))
    (slack,) = receiver.bodies(SLACK)
    assert slack["text"] == f"wallet-recon: run failed in step {alert['step']}"


def sensor_says(h: Harness, run: dg.DagsterRun) -> None:
    """Evaluate the recon job's run-failure sensor for `run`, as the daemon would."""
    from pipelines.definitions import defs

    (event,) = h.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert event.dagster_event is not None
    context = dg.build_run_status_sensor_context(
        sensor_name="recon_failure_alerts",
        dagster_instance=h.instance,
        dagster_run=run,
        dagster_event=event.dagster_event,
        resources=h.resources(),
    ).for_run_failure()
    sensor = defs.get_repository_def().get_sensor_def("recon_failure_alerts")
    sensor(context)


def test_a_run_with_no_provider_configured_fails_whatever_started_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        monkeypatch.delenv("OPENAPI_BASE_URL")
        result = h.run_job(WORLD.start_date, WORLD.start_date)
        (record,) = h.instance.get_run_records()
    assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "reconcile"
    assert failure.step_failure_data is not None and failure.step_failure_data.error is not None
    message = failure.step_failure_data.error.message
    assert "no provider is configured" in message and "OPENAPI_BASE_URL" in message
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_a_provider_that_goes_quiet_after_days_with_rows_is_a_stale_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The world has three days of entries; the run asks for two more, which come back empty."""
    cfg = WorldConfig(seed=8, customers=2, days=3, anomalies={})
    world = build_world(cfg)
    last = cfg.start_date + timedelta(days=cfg.days + 1)
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run_job(cfg.start_date, last))
        stale = h.query(
            "select account_id, status, severity, detail from fct_breaks "
            "where check_name = 'stale_source' order by account_id"
        )
        others = h.query("select count(*) from fct_breaks where check_name <> 'stale_source'")
    customers = sorted(str(c["customer_id"]) for c in world.credentials())
    assert [(a, s, v) for a, s, v, _ in stale] == [(c, "open", "error") for c in customers]
    assert all(f"for the day {last}" in detail for *_, detail in stale)
    assert others == [(0,)]
