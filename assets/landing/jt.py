"""JT wallet landing: balance records by day window, users (with JT's totals) as snapshots.

Assets `lake_jt__balance_records` (daily partitions on JT's clock, one request window
[day, day+1) per partition) and `lake_jt__users`, which also lands `user_totals`. The users
are read between two reads of the records since the newest landed day, like OPEN-API wallets,
so a user's balance can be tied to its records.
"""

from datetime import date

import dagster as dg
from dagster import AssetExecutionContext

from assets.partitions import DAILY
from assets.progress import report, skipped
from assets.resources import JtResource, WarehouseResource
from store.landing.common import Landed
from store.landing.jt import RECORDS, USERS, land_records_windows, land_users


@dg.asset(
    name=RECORDS.lake_asset,
    group_name="landing",
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"parquet"},
    description="JT wallet balance records, one Parquet file per day window [day, day+1) on "
    "JT's clock, minor units as sent and major units beside them. "
    "Grain: one row per balanceRefNo per window.",
)
def lake_jt__balance_records(
    context: AssetExecutionContext, jt: JtResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    if not jt.is_configured():
        return skipped(context, "JT balance records", "JT_BASE_URL")
    fetched_at = jt.provider_now()
    days = [date.fromisoformat(k) for k in context.partition_keys]
    done: list[date] = []

    def landed(day: date, what: Landed) -> None:
        done.append(day)
        report(context, f"jt balance_records {day} ({len(done)}/{len(days)}): {what.summary()}")

    with jt.client() as client:
        total = land_records_windows(client, days, warehouse.lake(), fetched_at, landed)
    return dg.MaterializeResult(metadata=total.metadata())


@dg.asset(
    name=USERS.lake_asset,
    group_name="landing",
    deps=[RECORDS.lake_asset],
    kinds={"parquet"},
    description="JT wallet users with their balances, and JT's totals over all users "
    "(`user_totals`), as reported when the run reads them. "
    "Grain: one row per mchUuid per snapshot.",
)
def lake_jt__users(
    context: AssetExecutionContext, jt: JtResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    if not jt.is_configured():
        return skipped(context, "JT users", "JT_BASE_URL")
    with jt.client() as client:
        landed = land_users(client, warehouse.lake(), jt.provider_now())
    report(context, f"jt users snapshot: {landed.summary()}")
    return dg.MaterializeResult(metadata=landed.metadata())


jt_landing_assets = [lake_jt__balance_records, lake_jt__users]
