"""The run-failure sensor: a failure alert for a run of the `recon` job that failed, however
it failed (a step, or the run's process itself), when the daemon is running. A step's
failure hook tells the same run first where it can; each destination hears of a run once."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from assets.resources import AlertResource, WarehouseResource
from outputs.alert_rules import RunFailure
from pipelines.alerts import tell_dead_run, tell_failure
from pipelines.recovery import recover


def build_failure_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="recon_failure_alerts",
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Tells every alert destination of a failed run of the recon job, once.",
    )
    def recon_failure_alerts(
        context: dg.RunFailureSensorContext,
        alerts: AlertResource,
        warehouse: WarehouseResource,
    ) -> None:
        steps = context.get_step_failure_events()
        first = steps[0] if steps else None
        error = first.step_failure_data.error if first and first.step_failure_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip().splitlines()[0] if error else context.failure_event.message
        failure = RunFailure(
            run_id=context.dagster_run.run_id,
            job=context.dagster_run.job_name,
            step=(first.step_key if first else None) or "(the run itself)",
            error=(message or "unknown error")[:500],
            failed_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        )
        tell_failure(warehouse, alerts, failure, context.log)

    return recon_failure_alerts


def build_dead_run_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name="recon_dead_runs",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed the runs of `recon run` whose process died, freeing the "
        "warehouse pool they held (pipelines/recovery.py), and tells the alert destinations.",
    )
    def recon_dead_runs(
        context: dg.SensorEvaluationContext, alerts: AlertResource, warehouse: WarehouseResource
    ) -> dg.SkipReason:
        dead = recover(context.instance)
        for run in dead:
            tell_dead_run(warehouse, alerts, run.run_id, context.log)
        return dg.SkipReason(f"{len(dead)} dead runs released" if dead else "no dead runs")

    return recon_dead_runs
