"""OPEN-API landing: ledger entries, card trades and orders by day window; wallets, cards and
exchange rates as snapshots.

Assets `lake_openapi__<entity>`. Windowed entities are daily partitions in the provider's
time zone, one partition = one API window [day, day+1) for every configured customer; a range
of days runs in one pass, the windows of different customers and days fetched at once within
the provider's limits, each day landed as one file when all its customers are in. Snapshots
land the provider's state when they run.
"""

from datetime import date

import dagster as dg
from dagster import AssetExecutionContext

from assets.partitions import DAILY
from assets.progress import report, skipped
from assets.resources import OpenApiResource, WarehouseResource
from store.datasets import dataset
from store.landing.common import Landed
from store.landing.openapi import (
    PROVIDER,
    SNAPSHOT_ENTITIES,
    WINDOW_ENTITIES,
    land_snapshot,
    land_windows,
)


def _window_asset(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"lake_{PROVIDER}__{entity}",
        group_name="landing",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"parquet"},
        description=f"OPEN-API {entity}, one Parquet file per day window [day, day+1) for "
        "all customers. Grain: one row per entity key per window.",
    )
    def _asset(
        context: AssetExecutionContext, openapi: OpenApiResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        if not openapi.is_configured():
            return skipped(context, f"OPEN-API {entity}", "OPENAPI_BASE_URL")
        fetched_at = openapi.provider_now()
        days = [date.fromisoformat(k) for k in context.partition_keys]
        done = 0

        def landed(day: date, what: Landed) -> None:
            nonlocal done
            done += 1
            report(context, f"{entity} {day} ({done}/{len(days)}): {what.summary()}")

        with openapi.client() as client:
            customers = openapi.credentials()
            total = land_windows(
                client, customers, entity, days, warehouse.lake(), fetched_at, landed
            )
        return dg.MaterializeResult(metadata=total.metadata())

    return _asset


def _snapshot_asset(entity: str) -> dg.AssetsDefinition:
    # Wallet and card snapshots read their tails after the newest landed windows.
    deps = [dataset(PROVIDER, t).lake_asset for t in dataset(PROVIDER, entity).tails]

    @dg.asset(
        name=f"lake_{PROVIDER}__{entity}",
        group_name="landing",
        deps=deps,
        kinds={"parquet"},
        description=f"OPEN-API {entity} as the provider reports them when the run takes the "
        "snapshot. Grain: one row per entity key per snapshot.",
    )
    def _asset(
        context: AssetExecutionContext, openapi: OpenApiResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        if not openapi.is_configured():
            return skipped(context, f"OPEN-API {entity}", "OPENAPI_BASE_URL")
        with openapi.client() as client:
            landed = land_snapshot(
                client, openapi.credentials(), entity, warehouse.lake(), openapi.provider_now()
            )
        report(context, f"{entity} snapshot: {landed.summary()}")
        return dg.MaterializeResult(metadata=landed.metadata())

    return _asset


openapi_landing_assets = [_window_asset(e) for e in WINDOW_ENTITIES] + [
    _snapshot_asset(e) for e in SNAPSHOT_ENTITIES
]
