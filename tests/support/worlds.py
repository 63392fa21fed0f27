"""Sandbox worlds the tests share, and pulling one whole through the OPEN-API sandbox app."""

from __future__ import annotations

from typing import Any

from sandbox import SandboxApp, World, WorldConfig
from tests.support.sandbox_client import SandboxClient, pull_customer

# Small but complete: every activity kind and awkward case occurs, every anomaly can be planted.
SMALL = WorldConfig(seed=11, customers=2, days=4, entries_per_day=120)


def pull_world(world: World) -> list[dict[str, Any]]:
    client = SandboxClient(SandboxApp(world))
    try:
        return [pull_customer(client, cred) for cred in world.credentials()]
    finally:
        client.close()
