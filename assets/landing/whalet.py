"""Whalet landing: every configured user's currency balances, and the platform's, as snapshots.

Assets `lake_whalet__balances` and `lake_whalet__platform_balances`: one reading per run, one
row per (user, fund source, currency). Money objects land whole; whether their cents agree
with their amounts is the `money_unit_mismatch` check.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster import AssetExecutionContext

from assets.progress import report, skipped
from assets.resources import WarehouseResource, WhaletResource
from store.landing.common import Landed
from store.landing.whalet import BALANCES, PLATFORM, land_balances, land_platform


def _result(
    context: AssetExecutionContext, what: str, landed: Landed, mismatched: int
) -> dg.MaterializeResult[None]:
    note = f", {mismatched} money objects with cent != amount x centFactor" if mismatched else ""
    report(context, f"{what}: {landed.summary()}{note}")
    return dg.MaterializeResult(metadata={**landed.metadata(), "unit_mismatches": mismatched})


def _taken_at() -> datetime:
    # Whalet's balances carry no times: the reading is stamped on this machine's UTC clock.
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dg.asset(
    name=BALANCES.lake_asset,
    group_name="landing",
    kinds={"parquet"},
    description="Whalet currency balances of every configured user (WHALET_USER_IDS) for each "
    "fund source, money objects whole. Grain: one row per user, fund source and currency "
    "per snapshot.",
)
def lake_whalet__balances(
    context: AssetExecutionContext, whalet: WhaletResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    if not whalet.is_configured():
        return skipped(context, "Whalet balances", "WHALET_BASE_URL")
    with whalet.client() as client:
        if not client.creds.user_ids:
            return skipped(context, "Whalet user balances", "WHALET_USER_IDS")
        landed, mismatched = land_balances(client, warehouse.lake(), _taken_at())
    return _result(context, "whalet balances", landed, mismatched)


@dg.asset(
    name=PLATFORM.lake_asset,
    group_name="landing",
    kinds={"parquet"},
    description="Whalet platform balances for each fund source, as Whalet sums them over the "
    "partner's users. Grain: one row per fund source and currency per snapshot.",
)
def lake_whalet__platform_balances(
    context: AssetExecutionContext, whalet: WhaletResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    if not whalet.is_configured():
        return skipped(context, "Whalet platform balances", "WHALET_BASE_URL")
    with whalet.client() as client:
        landed, mismatched = land_platform(client, warehouse.lake(), _taken_at())
    return _result(context, "whalet platform balances", landed, mismatched)


whalet_landing_assets = [lake_whalet__balances, lake_whalet__platform_balances]
