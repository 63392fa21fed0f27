"""Whalet landing: every configured user's currency balances, and the platform's, as snapshots.

One reading per run (assets `lake_whalet__balances`, `lake_whalet__platform_balances`), one
row per (user, fund source, currency). Money objects land whole; whether their cents agree
with their amounts is the `money_unit_mismatch` check.
"""

from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.whalet.client import WhaletClient
from connectors.whalet.rows import convert_rows, unit_mismatches
from store.datasets import dataset
from store.landing.common import Landed, write_snapshot

PROVIDER = "whalet"
BALANCES = dataset(PROVIDER, "balances")
PLATFORM = dataset(PROVIDER, "platform_balances")


def land_balances(client: WhaletClient, data_dir: Path, taken_at: datetime) -> tuple[Landed, int]:
    """Every configured user's balances for every fund source, as one snapshot file."""
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for user_id in client.creds.user_ids:
        for fund_source in client.profile.fund_sources:
            raw = client.currency_balances(user_id, fund_source)
            converted = convert_rows(BALANCES.entity, user_id, fund_source, raw, extra)
            rows += converted.rows
            quarantined += converted.quarantined
    write_snapshot(data_dir, BALANCES, rows, quarantined, taken_at)
    return Landed(len(rows), len(quarantined), 0, 1), unit_mismatches(rows)


def land_platform(client: WhaletClient, data_dir: Path, taken_at: datetime) -> tuple[Landed, int]:
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for fund_source in client.profile.fund_sources:
        raw = client.platform_balances(fund_source)
        partner = client.creds.partner_id
        converted = convert_rows(PLATFORM.entity, partner, fund_source, raw, extra)
        rows += converted.rows
        quarantined += converted.quarantined
    write_snapshot(data_dir, PLATFORM, rows, quarantined, taken_at)
    return Landed(len(rows), len(quarantined), 0, 1), unit_mismatches(rows)
