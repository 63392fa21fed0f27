"""Break alerts wired into the `recon` job: a hook on the reconcile step, for every run.

The hook fires whether the step succeeded or failed. A blocking check with open breaks
fails the step after the snapshot is published, and those are the runs alerts are for; a
step that failed for another reason published nothing new, so only alerts still pending
from earlier runs (a receiver that was down) go out.
"""

import dagster as dg

from assets.resources import AlertResource, WarehouseResource
from outputs.alerts import Outcome, send_alerts

RECON_STEP = "reconcile"


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


def send_after_reconcile(context: dg.HookContext) -> None:
    if context.op.name != RECON_STEP:
        return
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
    send_after_reconcile(context)


@dg.failure_hook(required_resource_keys={"alerts", "warehouse"})
def alert_on_failure(context: dg.HookContext) -> None:
    send_after_reconcile(context)


ALERT_HOOKS = {alert_on_success, alert_on_failure}
