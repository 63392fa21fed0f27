"""Windows of different customers and days landed at once: the same files as one by one, and a
window that fails lands nothing of its day.

Against the sandbox served over loopback (`tests.support.counting.Counting` in front of it,
to see that requests did overlap and to fail one chosen window).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.http import HttpSettings, JsonHttpClient, ProviderError
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE
from sandbox import SandboxApp, WorldConfig, build_world
from sandbox.serve import serving
from store.lake import Lake, lake_root
from store.landing.common import Landed
from store.landing.openapi import land_windows
from tests.support.counting import Counting

CFG = WorldConfig(seed=11, customers=3, days=4, entries_per_day=60)
WORLD = build_world(CFG)
CREDS = [Credentials(c["customer_id"], c["app_id"], c["key"]) for c in WORLD.credentials()]
DAYS = [CFG.start_date + timedelta(days=i) for i in range(CFG.days)]
FETCHED_AT = datetime(2026, 12, 1)


@contextmanager
def client(counting: Counting, in_flight: int) -> Iterator[OpenApiClient]:
    with serving(counting) as server:
        settings = HttpSettings(max_in_flight=in_flight, requests_per_second=0, max_attempts=2)
        with JsonHttpClient(server.base_url, settings, PROFILE.codes) as http:
            yield OpenApiClient(http, page_size=20, credentials=CREDS)


def land(
    data_dir: Path,
    in_flight: int,
    entity: str = "transactions",
    refuse: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[Counting, list[str]]:
    counting = Counting(SandboxApp(WORLD), hold_seconds=0.01, refuse=refuse)
    reported: list[str] = []

    def landed(day: Any, what: Landed) -> None:
        reported.append(f"{day}: {what.rows}")

    with client(counting, in_flight) as openapi:
        lake = Lake.local(lake_root(data_dir))
        land_windows(openapi, CREDS, entity, DAYS, lake, FETCHED_AT, landed)
    return counting, reported


def files(data_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("entity", ["transactions", "card_trades", "orders"])
def test_landing_four_at_a_time_writes_the_same_files_as_one_at_a_time(
    entity: str, tmp_path: Path
) -> None:
    one, _ = land(tmp_path / "one", 1, entity)
    four, reported = land(tmp_path / "four", 4, entity)
    assert one.max_in_flight == 1
    assert four.max_in_flight == 4
    # Every day reported once, each when its file was written.
    assert sorted(r.split(":")[0] for r in reported) == [str(d) for d in DAYS]
    by_one, by_four = files(tmp_path / "one"), files(tmp_path / "four")
    assert len(by_one) == len(DAYS)
    assert by_four == by_one  # byte for byte: rows, order, counts


def test_a_window_that_fails_lands_nothing_of_its_day(tmp_path: Path) -> None:
    before = files_after_landing(tmp_path)
    failing_day = str(DAYS[1])

    def refuse(params: dict[str, Any]) -> bool:
        # The second customer's second page of the second day.
        return (
            params.get("customer_id") == CREDS[1].customer_id
            and str(params.get("start_time", "")).startswith(failing_day)
            and params.get("page_no") == 2
        )

    with pytest.raises(ProviderError, match="HTTP 400"):
        land(tmp_path, 4, refuse=refuse)
    after = files(tmp_path)
    # The day that failed keeps its previous file, byte for byte; nothing half-written.
    assert after == before
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]

    fresh = tmp_path / "fresh"
    with pytest.raises(ProviderError):
        land(fresh, 4, refuse=refuse)
    fresh_lake = Lake.local(lake_root(fresh))
    window = fresh_lake.window_dir("openapi", "transactions", DAYS[1])
    assert not fresh_lake.exists(window / "data.parquet")
    assert not [p for p in fresh.rglob("*") if p.name.endswith(".tmp")]


def files_after_landing(data_dir: Path) -> dict[str, bytes]:
    land(data_dir, 4)
    return files(data_dir)
