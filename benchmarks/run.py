"""`make bench`: benchmarks reported as ratios against a baseline measured in the same run.

Sandbox scale: a 30-day world of ~1M ledger entries against a 3-day baseline with the same
daily volume (so a one-day window holds as many rows in both).
- build: seconds per entry, large / baseline (1.0 = linear growth);
- page: seconds per transactionList page, large / baseline (1.0 = a request costs the same
  however big the world, i.e. windows come from the index, not a scan).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import replace
from typing import Any

from sandbox import SandboxApp, WorldConfig, build_world

BASELINE = WorldConfig(seed=1, customers=10, days=3, entries_per_day=3400)
LARGE = replace(BASELINE, days=30)
PAGES = 300


def _timed_build(cfg: WorldConfig) -> tuple[Any, float, int]:
    started = time.perf_counter()
    world = build_world(cfg)
    seconds = time.perf_counter() - started
    return world, seconds, sum(len(c.entries) for c in world.customers)


def _page_seconds(world: Any) -> float:
    app = SandboxApp(world)
    cred = world.credentials()[0]
    bodies = [
        json.dumps(
            {
                **cred,
                "page_no": 1 + i % 5,
                "page_size": 100,
                "start_time": f"2026-11-{9 + i % 2:02d} 00:00:00",
                "end_time": f"2026-11-{10 + i % 2:02d} 00:00:00",
            }
        ).encode()
        for i in range(PAGES)
    ]

    async def run() -> float:
        started = time.perf_counter()
        for body in bodies:
            status, _, payload = await app.handle(
                "POST", "/v1/openApi/wallet/transactionList", body
            )
            # A benchmark of empty or failed pages would measure nothing.
            assert status == 200 and b'"transaction_id"' in payload, payload[:200]
        return (time.perf_counter() - started) / PAGES

    return asyncio.run(run())


def main() -> int:
    base_world, base_s, base_n = _timed_build(BASELINE)
    base_page = _page_seconds(base_world)
    del base_world
    world, large_s, large_n = _timed_build(LARGE)
    large_page = _page_seconds(world)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"sandbox build: {large_n:,} entries in {large_s:.1f}s; "
        f"baseline {base_n:,} in {base_s:.2f}s"
    )
    print(
        f"  per-entry build time, large / baseline: {(large_s / large_n) / (base_s / base_n):.2f}x"
    )
    print(f"  page request time, large / baseline:    {large_page / base_page:.2f}x")
    print(f"  peak RSS: {rss_mb:,.0f} MB ({rss_mb * 1024 / large_n:.2f} KB per entry)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
