"""The sensors: a failure alert for a run of the `recon` job that failed, however it failed
(a step, or the run's process itself), when the daemon is running (a step's failure hook
tells the same run first where it can; each destination hears of a run once); runs whose
process died; and the re-pulls the provider's webhooks hint at (store.webhook_events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import dagster as dg

from assets.partitions import DAILY
from assets.resources import AlertResource, OpenApiResource, WarehouseResource
from outputs.alert_rules import RunFailure
from pipelines.alerts import tell_dead_run, tell_failure
from pipelines.recovery import recover
from pipelines.schedules import range_tags
from store.datasets import dataset
from store.landing.openapi import PROVIDER as OPENAPI
from store.landing.openapi import WINDOW_ENTITIES as OPENAPI_WINDOWS
from store.webhook_events import Repull, plan_repulls
from store.webhook_store import WebhookStore

# Tags of a re-pull run: the customers whose events asked for it, and the snapshots pulled.
WEBHOOK_TAG = "recon/webhook_customers"
WEBHOOK_SNAPSHOTS_TAG = "recon/webhook_snapshots"


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


# What a re-pull selects besides its landing: every load, model, check and the publication,
# so the pulled data is checked and published as a scheduled run would.
DOWNSTREAM_GROUPS = ("warehouse", "staging", "recon", "marts", "publish")


def downstream_keys(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """Every asset after landing: loads, models, checks, the publication."""
    return sorted(
        key
        for a in assets
        for key, group in a.group_names_by_key.items()
        if group in DOWNSTREAM_GROUPS
    )


def repull_request(repull: Repull, downstream: Sequence[dg.AssetKey]) -> dg.RunRequest:
    """The run for one re-pull: the OPEN-API day windows first..last, the snapshots the
    events asked for, and everything after landing (checks included)."""
    landing = [
        dg.AssetKey(dataset(OPENAPI, e).lake_asset) for e in (*OPENAPI_WINDOWS, *repull.snapshots)
    ]
    return dg.RunRequest(
        run_key=repull.run_key(),
        asset_selection=[*landing, *downstream],
        tags=range_tags(repull.first, repull.last)
        | {
            WEBHOOK_TAG: ",".join(str(c) for c in repull.customers),
            WEBHOOK_SNAPSHOTS_TAG: ",".join(repull.snapshots) or "none",
        },
    )


def build_webhook_sensor(
    job: dg.UnresolvedAssetJobDefinition, assets: Sequence[dg.AssetsDefinition]
) -> dg.SensorDefinition:
    downstream = downstream_keys(assets)

    @dg.sensor(
        name="recon_webhook_repulls",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Turns the provider webhooks the receiver kept (`recon webhooks serve`) "
        "into re-pulls: the OPEN-API day windows of each event's day and the snapshot it "
        "names (cards for card and order events, wallets for wallet events), then the "
        "checks. Many events become few runs; an event is answered once.",
    )
    def recon_webhook_repulls(
        context: dg.SensorEvaluationContext,
        openapi: OpenApiResource,
        warehouse: WarehouseResource,
    ) -> dg.SensorResult | dg.SkipReason:
        if not openapi.is_configured():
            return dg.SkipReason("OPEN-API is not configured")
        store = WebhookStore(warehouse.webhook_url())
        try:
            pending = store.pending()
            if not pending:
                return dg.SkipReason("no webhook events waiting")
            # The provider's day, but never past the newest day partition: DAILY runs on
            # UTC, so a provider ahead of UTC is on a day Dagster does not have yet.
            newest = DAILY.get_last_partition_key()
            today = openapi.provider_now().date()
            if newest is not None:
                today = min(today, date.fromisoformat(newest))
            earliest = DAILY.start.date()
            plans = plan_repulls(pending, openapi.zone(), today, earliest)
            requests = [repull_request(p, downstream) for p in plans]
            # Marked before Dagster starts the runs: an event is answered by at most one
            # tick. The run key makes a request repeated after a crash start nothing twice.
            for plan in plans:
                store.mark_processed(plan.event_ids, plan.run_key())
        finally:
            store.close()
        context.log.info(f"{len(pending)} webhook events -> {len(requests)} re-pull runs")
        return dg.SensorResult(run_requests=requests)

    return recon_webhook_repulls
