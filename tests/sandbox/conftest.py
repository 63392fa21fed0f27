from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import (
    JtApp,
    SandboxApp,
    WhaletApp,
    World,
    build_world,
    default_config,
    generate_merchant_key,
)
from tests.support.provider_clients import JtClient, WhaletClient
from tests.support.sandbox_client import SandboxClient
from tests.support.worlds import SMALL, pull_world


@pytest.fixture(scope="session")
def clean_world() -> World:
    return build_world(SMALL)


@pytest.fixture(scope="session")
def default_world() -> World:
    return build_world(default_config())


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


@pytest.fixture(scope="session")
def merchant_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM): RSA key generation is slow enough to do once."""
    return generate_merchant_key()


@pytest.fixture
def jt(clean_world: World, merchant_key: tuple[bytes, bytes]) -> Iterator[JtClient]:
    c = JtClient(JtApp(clean_world, merchant_key[1]), merchant_key[0])
    yield c
    c.close()


@pytest.fixture
def whalet(clean_world: World) -> Iterator[WhaletClient]:
    c = WhaletClient(WhaletApp(clean_world))
    yield c
    c.close()
