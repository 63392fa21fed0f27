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
from store.landing.jt import land_records_window, land_records_windows
from tests.support.counting import Counting

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


RANGE = WorldConfig(
    seed=29, customers=1, days=4, entries_per_day=10, jt=JtConfig(users=3, records_per_day=300)
)


def _land_range(data_dir: Path, in_flight: int) -> tuple[Counting, list[str]]:
    """JT's days of RANGE landed with `in_flight` requests at once, over loopback."""
    world = build_world(RANGE)
    private_pem, public_pem = generate_merchant_key()
    counting = Counting(JtApp(world, public_pem), hold_seconds=0.01)
    days = [RANGE.start_date + timedelta(days=i) for i in range(RANGE.days)]
    reported: list[str] = []
    with serving(counting) as server:
        settings = HttpSettings(max_in_flight=in_flight, requests_per_second=0, max_attempts=2)
        with JsonHttpClient(server.base_url, settings, PROFILE.codes) as http:
            client = JtClient(http, world.jt.app_id, Signer.from_pem(private_pem), page_size=100)
            land_records_windows(
                client,
                days,
                lake.Lake.local(data_dir / "lake"),
                datetime(2026, 12, 1),
                lambda day, what: reported.append(str(day)),
            )
    return counting, reported


def test_jt_days_land_four_at_a_time_into_the_same_files_as_one_at_a_time(
    tmp_path: Path,
) -> None:
    one, _ = _land_range(tmp_path / "one", 1)
    four, reported = _land_range(tmp_path / "four", 4)
    assert one.max_in_flight == 1 and four.max_in_flight == 4
    # Every day reported once, when its file was written (as days complete, in any order).
    assert sorted(reported) == [
        str(RANGE.start_date + timedelta(days=i)) for i in range(RANGE.days)
    ]

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    by_one, by_four = files(tmp_path / "one"), files(tmp_path / "four")
    assert len(by_one) == RANGE.days and by_four == by_one  # byte for byte
