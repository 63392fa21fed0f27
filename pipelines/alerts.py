"""Alerts wired into the `recon` job: break alerts after the reconcile step, and a failure
alert for any step that fails, for every run however it was started (`recon run`, the
schedule, the UI). The run-failure sensor also covers a run that failed outside any step
(its process died) when the daemon is running; each failed run is told once per destination.
"""

import logging
from datetime import UTC, datetime

import dagster as dg

from assets.resources import AlertResource, WarehouseResource
from outputs.alert_rules import RunFailure
from outputs.alerts import Outcome, send_alerts, send_failure

RECON_STEP = "reconcile"
JOB = "recon"


def where_to_look(warehouse: WarehouseResource) -> str:
    return (
        f"`recon breaks --status open` with RECON_DATA_DIR={warehouse.root()}; "
        f"the warehouse {warehouse.published_path()} (open it read-only); "
        "`recon report` for the page; docs/checks.md explains each check"
    )


def send(warehouse: WarehouseResource, alerts: AlertResource) -> tuple[list[Outcome], list[str]]:
    """Send what is pending to every destination that could be built; returns what happened
    and what is wrong with the destinations that could not (by setting name)."""
    sinks, problems = alerts.sinks()
    outcomes = send_alerts(
        warehouse.published_path(),
        warehouse.alerts_dir(),
        sinks,
        alerts.min_severity(),
        where_to_look(warehouse),
    )
    return outcomes, problems


def tell_failure(
    warehouse: WarehouseResource,
    alerts: AlertResource,
    failure: RunFailure,
    log: logging.Logger | dg.DagsterLogManager,
) -> None:
    sinks, problems = alerts.sinks()
    for problem in problems:
        log.error(f"failure alert not sent to one destination: {problem}")
    where = f"the run {failure.run_id} in the Dagster UI; `recon run` prints the same error"
    for o in send_failure(warehouse.alerts_dir(), sinks, failure, where):
        if o.announced:
            state = "delivered" if o.delivered else f"NOT delivered ({o.error})"
            log.info(f"failure alert to {o.sink}: {state}")


def tell_dead_run(
    warehouse: WarehouseResource,
    alerts: AlertResource,
    run_id: str,
    log: logging.Logger | dg.DagsterLogManager,
) -> None:
    """A run whose process died without finishing (pipelines.recovery) is a failed run."""
    failure = RunFailure(
        run_id=run_id,
        job=JOB,
        step="(the run itself)",
        error="its process was killed or its host went down before it finished",
        failed_at=_now(),
    )
    tell_failure(warehouse, alerts, failure, log)


def one_line(error: BaseException | None) -> str:
    """The innermost cause's first line: Dagster wraps what went wrong."""
    while error is not None and error.__cause__ is not None:
        error = error.__cause__
    if error is None:
        return "unknown error"
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:500]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def send_after_reconcile(context: dg.HookContext) -> None:
    try:
        outcomes, problems = send(context.resources.warehouse, context.resources.alerts)
    except ValueError as exc:  # a setting is wrong: say which, the run itself stands
        context.log.error(f"alerts not sent: {exc}")
        return
    for problem in problems:
        context.log.error(f"alerts not sent to one destination: {problem}")
    for o in outcomes:
        if o.announced:
            state = "delivered" if o.delivered else f"NOT delivered ({o.error}); pending"
            context.log.info(f"alert to {o.sink}: {o.announced} breaks, {state}")


@dg.success_hook(required_resource_keys={"alerts", "warehouse"})
def alert_on_success(context: dg.HookContext) -> None:
    if context.op.name == RECON_STEP:
        send_after_reconcile(context)


@dg.failure_hook(required_resource_keys={"alerts", "warehouse"})
def alert_on_failure(context: dg.HookContext) -> None:
    failure = RunFailure(
        run_id=context.run_id,
        job=context.job_name,
        step=context.step_key,
        error=one_line(context.op_exception),
        failed_at=_now(),
    )
    try:
        tell_failure(context.resources.warehouse, context.resources.alerts, failure, context.log)
    except ValueError as exc:
        context.log.error(f"failure alert not sent: {exc}")
    if context.op.name == RECON_STEP:
        # Nothing new was published; alerts still pending from earlier runs (a receiver
        # that was down) go out all the same.
        send_after_reconcile(context)


ALERT_HOOKS = {alert_on_success, alert_on_failure}
