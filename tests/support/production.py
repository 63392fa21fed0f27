"""The production profile (deploy/) around a test: a real PostgreSQL, a DAGSTER_HOME holding
deploy/dagster.yaml, a sandbox world's three providers on loopback, and the environment the
services get, as an operator's EnvironmentFile would give it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sandbox import World
from sandbox.serve import ProviderServers, serving_all
from tests.support.postgres import Postgres, postgres_server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INHERITED = ("OPENAPI_", "JT_", "WHALET_", "RECON_", "DAGSTER_")
LOOKBACK_DAYS = 3


def _secret(folder: Path, name: str, content: bytes) -> str:
    path = folder / name
    path.touch(mode=0o600)
    path.write_bytes(content)
    return str(path)


def service_environment(
    pg: Postgres, home: Path, data: Path, world: World, s: ProviderServers, secrets: Path
) -> dict[str, str]:
    """What an operator's EnvironmentFile holds: the instance, the data folder and the three
    providers, their secrets in files. Nothing of the developer's own settings leaks in."""
    customers = "\n".join(
        f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world.credentials()
    )
    whalet = world.whalet.credentials()
    zone = world.cfg.timezone
    return {k: v for k, v in os.environ.items() if not k.startswith(INHERITED)} | {
        **pg.environment(),
        "DAGSTER_HOME": str(home),
        "RECON_DATA_DIR": str(data),
        "RECON_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
        "OPENAPI_BASE_URL": s.openapi.base_url,
        "OPENAPI_TIMEZONE": zone,
        "OPENAPI_CUSTOMERS_FILE": _secret(secrets, "openapi_customers", customers.encode()),
        "JT_BASE_URL": s.jt.base_url,
        "JT_TIMEZONE": zone,
        "JT_APP_ID": world.jt.app_id,
        "JT_PRIVATE_KEY_FILE": _secret(secrets, "jt_private_key.pem", s.jt_private_key_pem),
        "WHALET_BASE_URL": s.whalet.base_url,
        "WHALET_PARTNER_ID": whalet["partner_id"],
        "WHALET_CLIENT_ID": whalet["client_id"],
        "WHALET_SECRET_KEY_FILE": _secret(secrets, "whalet_secret", whalet["secret_key"].encode()),
        "WHALET_USER_IDS": ",".join(whalet["user_ids"]),
        "WHALET_USER_IDS_COMPLETE": "true",
    }


@contextmanager
def production(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Postgres, dict[str, str]]]:
    """A fresh PostgreSQL, a DAGSTER_HOME holding deploy/dagster.yaml, the world's providers
    on loopback, and the services' environment for all of them."""
    home, data, secrets = tmp_path / "dagster", tmp_path / "data", tmp_path / "secrets"
    for folder in (home, secrets):
        folder.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    with postgres_server() as pg, serving_all(world) as servers:
        for name, value in pg.environment().items():
            monkeypatch.setenv(name, value)  # this process reads the instance's config too
        yield pg, service_environment(pg, home, data, world, servers, secrets)


def published(data: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()
