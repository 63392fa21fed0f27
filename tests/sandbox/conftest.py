from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import SandboxApp, World, WorldConfig, build_world, default_config
from tests.sandbox.client import SandboxClient, pull_customer

# Small but complete: every activity kind and awkward case occurs, every anomaly can be planted.
SMALL = WorldConfig(seed=11, customers=2, days=4, entries_per_day=120)


@pytest.fixture(scope="session")
def clean_world() -> World:
    return build_world(SMALL)


@pytest.fixture(scope="session")
def default_world() -> World:
    return build_world(default_config())


def pull_world(world: World) -> list[dict[str, Any]]:
    client = SandboxClient(SandboxApp(world))
    try:
        return [pull_customer(client, cred) for cred in world.credentials()]
    finally:
        client.close()


@pytest.fixture(scope="session")
def clean_data(clean_world: World) -> list[dict[str, Any]]:
    return pull_world(clean_world)


@pytest.fixture(scope="session")
def default_data(default_world: World) -> list[dict[str, Any]]:
    return pull_world(default_world)


@pytest.fixture
def client(clean_world: World) -> Iterator[SandboxClient]:
    c = SandboxClient(SandboxApp(clean_world))
    yield c
    c.close()
