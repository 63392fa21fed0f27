"""The JT users' tail over the sandbox's HTTP interface: any span since the newest landed
day is read, in windows JT allows, and a newest landed day of today reads nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from connectors.http import HttpSettings, JsonHttpClient
from connectors.jt.client import JtClient
from connectors.jt.profile import PROFILE
from connectors.jt.signing import Signer
from sandbox import JtConfig, WorldConfig, build_world
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key
from sandbox.model import fmt_time
from sandbox.serve import serving
from sandbox.world import World
from store import lake
from store.landing.jt import land_records_window, land_users
from tests.support.counting import Counting

# 40 days: the tail after the first day is longer than one 31-day request may ask for.
LONG = WorldConfig(
    seed=11, customers=1, days=40, entries_per_day=10, jt=JtConfig(users=2, records_per_day=3)
)
SETTINGS = HttpSettings(requests_per_second=0, max_attempts=2, backoff_base_seconds=0.01)
FMT = PROFILE.datetime_format


@contextmanager
def _jt(world: World, windows: list[tuple[datetime, datetime]]) -> Iterator[JtClient]:
    """A client of the world's JT over loopback; every records request's window is kept."""

    def keep(body: dict[str, object]) -> bool:
        param = json.loads(str(body.get("param", "{}")))
        if "startTime" in param:
            start = datetime.strptime(param["startTime"], FMT)
            windows.append((start, datetime.strptime(param["endTime"], FMT)))
        return False

    private_pem, public_pem = generate_merchant_key()
    with serving(Counting(JtApp(world, public_pem), refuse=keep)) as server:
        http = JsonHttpClient(server.base_url, SETTINGS, PROFILE.codes)
        try:
            yield JtClient(http, world.jt.app_id, Signer.from_pem(private_pem))
        finally:
            http.close()


def test_a_tail_longer_than_31_days_is_read_in_windows_jt_allows(tmp_path: Path) -> None:
    world = build_world(LONG)
    landing = lake.Lake.local(tmp_path / "lake")
    taken_at = datetime.strptime(fmt_time(world.now), FMT)
    windows: list[tuple[datetime, datetime]] = []
    with _jt(world, windows) as client:
        land_records_window(client, LONG.start_date, landing, taken_at)
        landed = land_users(client, landing, taken_at)
    tail_from = datetime(2026, 11, 10)
    assert taken_at - tail_from > timedelta(days=31)
    tail_windows = [w for w in windows if w[0] >= tail_from]
    assert tail_windows, "the tail was read"
    assert all(hi - lo <= timedelta(days=31) for lo, hi in tail_windows)
    # Read twice around the users (before and after), each time from tail_from to now.
    assert min(lo for lo, _ in tail_windows) == tail_from
    assert max(hi for _, hi in tail_windows) == taken_at + timedelta(seconds=1)

    rows, lo, hi = world.jt.records_window(None, world.start + 86_400, world.now + 1, world.now)
    expected = {r.balance_ref_no for r in rows[lo:hi]}
    tail_dir = landing.entity_dir("jt", "balance_records_tail")
    (tail_file,) = list(Path(tail_dir).rglob("*.parquet"))
    got = pq.read_table(tail_file).column("balance_ref_no").to_pylist()
    assert len(expected) > 3 * 35 and sorted(got) == sorted(expected)
    (users_file,) = list(Path(landing.entity_dir("jt", "users")).rglob("at=*.parquet"))
    users = pq.read_table(users_file).to_pylist()
    # The users' balances are tied to the records: the tie-out is not skipped.
    assert {u["_tail_from"] for u in users} == {tail_from}
    assert all(u["_chain_through"] is not None for u in users)
    assert landed.rows == len(users) + len(expected)


def test_a_newest_landed_day_of_today_reads_an_empty_tail(tmp_path: Path) -> None:
    world = build_world(LONG)
    landing = lake.Lake.local(tmp_path / "lake")
    taken_at = datetime.strptime(fmt_time(world.now), FMT)
    windows: list[tuple[datetime, datetime]] = []
    with _jt(world, windows) as client:
        land_records_window(client, taken_at.date(), landing, taken_at)
        land_users(client, landing, taken_at)
    # Only the day window itself was asked for: JT would refuse an empty or inverted one.
    assert all(lo < hi for lo, hi in windows)
    assert [lo for lo, _ in windows] == [datetime.combine(taken_at.date(), datetime.min.time())]
    (users_file,) = list(Path(landing.entity_dir("jt", "users")).rglob("at=*.parquet"))
    users = pq.read_table(users_file).to_pylist()
    # Nothing read after the reading can vouch for the chain: no tie-out rather than a false one.
    assert users and all(u["_chain_through"] is None for u in users)
