"""Runs the real pipeline (Dagster job, real DuckDB) against a sandbox served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from assets.landing import landing_assets
from assets.recon import recon_assets
from assets.resources import (
    JtResource,
    OpenApiResource,
    ReconResource,
    WarehouseResource,
    WhaletResource,
)
from assets.warehouse import warehouse_assets
from pipelines.schedules import range_tags
from sandbox import SandboxApp, World
from sandbox.serve import BackgroundServer


@dataclass
class Harness:
    world: World
    app: SandboxApp
    server: BackgroundServer
    data_dir: Path
    instance: dg.DagsterInstance
    monkeypatch: pytest.MonkeyPatch

    def run(self, first: date, last: date, **openapi: Any) -> dg.ExecuteInProcessResult:
        settings = {"page_size": 100, "backoff_base_seconds": 0.01, "requests_per_second": 0.0}
        resources = {
            "openapi": OpenApiResource(**(settings | openapi)),
            "jt": JtResource(**settings),
            "whalet": WhaletResource(backoff_base_seconds=0.01, requests_per_second=0.0),
            "warehouse": WarehouseResource(data_dir=str(self.data_dir)),
            "recon": ReconResource(),
        }
        return dg.materialize(
            [*landing_assets, *warehouse_assets, *recon_assets],
            resources=resources,
            instance=self.instance,
            tags=range_tags(first, last),
            raise_on_error=False,
        )

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table of the warehouse, rows sorted, for comparison by content."""
        names = [r[0] for r in self.query("select table_name from duckdb_tables() order by 1")]
        return {n: self.query(f"select * from {n} order by all") for n in names}


def completed(result: dg.ExecuteInProcessResult) -> bool:
    """The run did all its work; blocking checks that failed on open breaks are findings."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return all(
        e.step_failure_data is not None
        and e.step_failure_data.error is not None
        and e.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError"
        for e in failures
    )


@contextmanager
def harness(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: SandboxApp | None = None
) -> Iterator[Harness]:
    app = app or SandboxApp(world)
    server = BackgroundServer(app)
    server.start()
    monkeypatch.setenv("OPENAPI_BASE_URL", server.base_url)
    monkeypatch.setenv(
        "OPENAPI_CUSTOMERS",
        ",".join(f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world.credentials()),
    )
    monkeypatch.delenv("OPENAPI_CUSTOMER_ID", raising=False)
    try:
        with dg.instance_for_test() as instance:
            yield Harness(world, app, server, tmp_path / "data", instance, monkeypatch)
    finally:
        server.stop()
