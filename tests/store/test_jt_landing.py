"""A busy JT day lands whole through transport faults, to the minor unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from connectors.http import HttpSettings, JsonHttpClient
from connectors.jt.client import JtClient
from connectors.jt.profile import PROFILE
from connectors.jt.signing import Signer
from sandbox import FaultConfig, JtConfig, WorldConfig, build_world
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key
from sandbox.model import day_start
from sandbox.serve import serving
from store import lake
from store.landing.jt import land_records_window

BUSY = WorldConfig(
    seed=23, customers=1, days=2, entries_per_day=10, jt=JtConfig(users=6, records_per_day=4000)
)
# Every fault on: 429 with Retry-After, 5xx, slow, busy, throttled, truncated JSON, and rows
# shifting between pages while the window is read.
FAULTS = FaultConfig.every_fault(0.04, retry_after_seconds=0, slow_seconds=0.05)


def test_a_4000_record_day_lands_whole_through_every_fault(tmp_path: Path) -> None:
    world = build_world(BUSY)
    day = BUSY.start_date + timedelta(days=1)
    start = day_start(day)
    rows, lo, hi = world.jt.records_window(None, start, start + 86_400, world.now)
    truth = {
        r.balance_ref_no: (
            r.amount if r.served_amount is None else r.served_amount,
            r.before,
            r.after,
        )
        for r in rows[lo:hi]
    }
    assert len(truth) >= 4000

    landing = lake.Lake.local(tmp_path / "lake")
    private_pem, public_pem = generate_merchant_key()
    app = JtApp(world, public_pem, faults=FAULTS)
    with serving(app) as server:
        settings = HttpSettings(requests_per_second=0, max_attempts=10, backoff_base_seconds=0.01)
        http = JsonHttpClient(server.base_url, settings, PROFILE.codes)
        client = JtClient(
            http, world.jt.app_id, Signer.from_pem(private_pem), page_size=1000, window_attempts=6
        )
        landed = land_records_window(client, day, landing, datetime(2026, 11, 12, 3))
        http.close()
    assert sum(app.faults.counts.values()) > 0, "the faults did happen"
    assert landed.rows == len(truth) and landed.quarantined == 0

    table = pq.read_table(landing.window_dir("jt", "balance_records", day) / "data.parquet")
    got = table.to_pylist()
    assert len(got) == len(truth)
    for row in got:
        amount, before, after = truth[row["balance_ref_no"]]
        assert (row["amount_minor"], row["before_balance_minor"], row["after_balance_minor"]) == (
            amount,
            before,
            after,
        )
        # Major units are the minor units moved two places, exactly.
        assert row["amount"] == Decimal(amount).scaleb(-2)
        assert row["after_balance"] == Decimal(after).scaleb(-2)
        assert isinstance(row["amount"], Decimal) and row["currency"] == "THB"
    assert date.fromisoformat(str(got[0]["_window_start"])[:10]) == day
