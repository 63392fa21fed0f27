"""Whalet landing: every configured user's currency balances, and the platform's, as snapshots.

One reading per run (assets `lake_whalet__balances`, `lake_whalet__platform_balances`), one
row per (user, fund source, currency). Money objects land whole; whether their cents agree
with their amounts is the `money_unit_mismatch` check.
"""

from datetime import datetime

from connectors.schema import Converted
from connectors.whalet.client import WhaletClient
from connectors.whalet.rows import convert_rows, unit_mismatches
from store.datasets import Dataset, dataset
from store.lake import Lake
from store.landing.common import Landed, write_snapshot

PROVIDER = "whalet"
BALANCES = dataset(PROVIDER, "balances")
PLATFORM = dataset(PROVIDER, "platform_balances")


def land_balances(client: WhaletClient, lake: Lake, taken_at: datetime) -> tuple[Landed, int]:
    """Every configured user's balances for every fund source, as one snapshot file."""
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    reading = Converted([], [])
    for user_id in client.creds.user_ids:
        for fund_source in client.profile.fund_sources:
            raw = client.currency_balances(user_id, fund_source)
            reading.add(convert_rows(BALANCES.entity, user_id, fund_source, raw, extra))
    return _write(lake, BALANCES, reading, taken_at)


def _write(lake: Lake, ds: Dataset, reading: Converted, taken_at: datetime) -> tuple[Landed, int]:
    write_snapshot(lake, ds, reading.rows, reading.quarantined, taken_at)
    landed = Landed(len(reading.rows), len(reading.quarantined), 0, 1)
    landed.unknown_fields = reading.unknown
    return landed, unit_mismatches(reading.rows)


def land_platform(client: WhaletClient, lake: Lake, taken_at: datetime) -> tuple[Landed, int]:
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    reading = Converted([], [])
    for fund_source in client.profile.fund_sources:
        raw = client.platform_balances(fund_source)
        partner = client.creds.partner_id
        reading.add(convert_rows(PLATFORM.entity, partner, fund_source, raw, extra))
    return _write(lake, PLATFORM, reading, taken_at)
