"""A world of a million ledger entries builds, serves and stays consistent (make soak)."""

from __future__ import annotations

import pytest

from sandbox import SandboxApp, WorldConfig, build_world
from tests.support.oracle import reconcile
from tests.support.sandbox_client import SandboxClient, pull_customer


@pytest.mark.slow
def test_million_entry_world_serves_consistent_ledgers() -> None:
    world = build_world(WorldConfig(seed=1, customers=10, days=30, entries_per_day=3400))
    assert sum(len(c.entries) for c in world.customers) >= 1_000_000
    client = SandboxClient(SandboxApp(world))
    try:
        data = pull_customer(client, world.credentials()[-1])
    finally:
        client.close()
    keys = {(e["transaction_id"], e["in_out_type"], e["currency"]) for e in data["entries"]}
    assert len(keys) == len(data["entries"]) > 90_000
    assert reconcile(data) == set()
