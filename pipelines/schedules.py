"""The nightly schedule: yesterday, plus a lookback of recent days (late rows, status changes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from assets.resources import JtResource, OpenApiResource, ReconResource

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
FULL_RECHECK_TAG = "recon/full_recheck"


def nightly_days(now: datetime, timezone: str, lookback_days: int) -> tuple[date, date]:
    """First and last day (inclusive) a nightly run at `now` loads, in the provider's zone."""
    if lookback_days < 0:
        raise ValueError("RECON_LOOKBACK_DAYS must not be negative")
    yesterday = now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    return yesterday - timedelta(days=lookback_days), yesterday


def range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (inclusive)."""
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def build_nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly",
        job=job,
        cron_schedule="30 2 * * *",
        execution_timezone="UTC",
        description=(
            "Loads yesterday and re-loads RECON_LOOKBACK_DAYS (default 3) days before it, "
            "re-checking what those loads changed; on RECON_FULL_RECHECK_DAY (default sunday) "
            "it re-checks all history."
        ),
    )
    def nightly(
        context: dg.ScheduleEvaluationContext,
        openapi: OpenApiResource,
        jt: JtResource,
        recon: ReconResource,
    ) -> dg.RunRequest:
        # One range for every provider: up to the last day that has ended on every
        # provider's clock, so no provider's still-open day is landed as if complete.
        # Whalet's balances carry no times: its readings are stamped in UTC.
        zones = {openapi.zone().key, jt.zone().key}
        lookback = recon.lookback()
        ranges = [nightly_days(context.scheduled_execution_time, z, lookback) for z in zones]
        first, last = min(r[0] for r in ranges), min(r[1] for r in ranges)
        weekday = recon.full_recheck_weekday()
        if weekday is None or context.scheduled_execution_time.weekday() != weekday:
            return dg.RunRequest(tags=range_tags(first, last))
        # The weekly reference: every model rebuilt from all history. It also bounds how long
        # a model maintained by key could drift, should one ever do so.
        return dg.RunRequest(
            tags=range_tags(first, last) | {FULL_RECHECK_TAG: "true"},
            run_config={"resources": {"recon": {"config": {"full_recheck": True}}}},
        )

    return nightly
