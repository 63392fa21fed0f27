"""The one Definitions object of wallet-recon: assets, the ingest job, the nightly schedule."""

import dagster as dg

from assets.landing import landing_assets
from assets.recon import recon_assets
from assets.warehouse import warehouse_assets
from pipelines.alerts import ALERT_HOOKS
from pipelines.resources import default_resources
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import build_dead_run_sensor, build_failure_sensor, build_webhook_sensor

ingest_job = dg.define_asset_job(
    "recon",
    selection=dg.AssetSelection.groups(
        "landing", "warehouse", "staging", "recon", "marts", "publish"
    ),
    hooks=ALERT_HOOKS,
    description="Land, load, stage, reconcile and publish every provider for a range of days.",
)

assets = [*landing_assets, *warehouse_assets, *recon_assets]
defs = dg.Definitions(
    assets=assets,
    jobs=[ingest_job],
    schedules=[build_nightly_schedule(ingest_job)],
    sensors=[
        build_failure_sensor(ingest_job),
        build_dead_run_sensor(),
        build_webhook_sensor(ingest_job, assets),
    ],
    resources=default_resources(),
)
