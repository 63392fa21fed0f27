"""Runs the real pipeline (Dagster job, real DuckDB) against a sandbox served on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
from assets.warehouse import warehouse_assets
from pipelines.definitions import ingest_job
from pipelines.resources import Resources
from pipelines.schedules import range_tags
from sandbox import FaultConfig, SandboxApp, World
from sandbox.asgi import AsgiApp
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key
from sandbox.serve import BackgroundServer
from sandbox.whalet_app import WhaletApp

# Every text column of every table: where a secret could hide in the warehouse.
VARCHAR_COLUMNS = (
    "select table_name, column_name from duckdb_columns() "
    "where not internal and data_type = 'VARCHAR'"
)


@dataclass
class Harness:
    world: World
    app: SandboxApp
    server: BackgroundServer
    data_dir: Path
    instance: dg.DagsterInstance
    monkeypatch: pytest.MonkeyPatch
    # With all providers: the JT merchant's private key and the Whalet app (its tokens).
    jt_private_key_pem: bytes | None = None
    whalet_app: WhaletApp | None = None

    def resources(
        self,
        jt: dict[str, Any] | None = None,
        whalet: dict[str, Any] | None = None,
        recon: dict[str, Any] | None = None,
        warehouse: dict[str, Any] | None = None,
        **openapi: Any,
    ) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "page_size": 100,
            "backoff_base_seconds": 0.01,
            "requests_per_second": 0.0,
        }
        quick = {"backoff_base_seconds": 0.01, "requests_per_second": 0.0}
        # The same resources a run builds, with the harness's settings as their config.
        return Resources.build(
            {
                "openapi": settings | openapi,
                "jt": settings | (jt or {}),
                "whalet": quick | (whalet or {}),
                "warehouse": {"data_dir": str(self.data_dir)} | (warehouse or {}),
                "recon": recon or {},
                # Alerts retry quickly here; a receiver that is down is the point of some tests.
                "alerts": {"attempts": 2, "backoff_base_seconds": 0.01, "timeout_seconds": 5},
            }
        ).by_key()

    def run(
        self,
        first: date,
        last: date,
        jt: dict[str, Any] | None = None,
        whalet: dict[str, Any] | None = None,
        recon: dict[str, Any] | None = None,
        warehouse: dict[str, Any] | None = None,
        **openapi: Any,
    ) -> dg.ExecuteInProcessResult:
        """The pipeline's assets, materialised directly (no job, so no alert hooks); keyword
        settings go to the OPEN-API resource, `jt`, `whalet`, `recon` and `warehouse` to
        theirs."""
        return dg.materialize(
            [*landing_assets, *warehouse_assets, *recon_assets],
            resources=self.resources(jt, whalet, recon, warehouse, **openapi),
            instance=self.instance,
            tags=range_tags(first, last),
            raise_on_error=False,
        )

    def run_job(self, first: date, last: date) -> dg.ExecuteInProcessResult:
        """The `recon` job as a schedule or `recon run` starts it, alert hooks included."""
        defs = dg.Definitions(
            assets=[*landing_assets, *warehouse_assets, *recon_assets],
            jobs=[ingest_job],
            resources=self.resources(),
        )
        return defs.resolve_job_def("recon").execute_in_process(
            instance=self.instance, tags=range_tags(first, last), raise_on_error=False
        )

    def secrets(self) -> list[str]:
        """Every credential the providers were given or handed out: OPEN-API keys and, with
        all providers, the Whalet secret and live tokens and each line of the JT key's body."""
        found = [c["key"] for c in self.world.credentials()]
        if self.whalet_app is not None:
            found += [self.world.whalet.credentials()["secret_key"], *self.whalet_app.tokens]
        if self.jt_private_key_pem is not None:
            found += self.jt_private_key_pem.decode().splitlines()[1:-1]
        return found

    @property
    def published(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table of the warehouse, rows sorted, for comparison by content."""
        names = [r[0] for r in self.query("select table_name from duckdb_tables() order by 1")]
        return {n: self.query(f"select * from {n} order by all") for n in names}


def completed(result: dg.ExecuteInProcessResult) -> bool:
    """The run did all its work: no step failed (open breaks are findings, not failures)."""
    return result.success and not any(e.is_step_failure for e in result.all_events)


def _serve(app: AsgiApp, servers: list[BackgroundServer]) -> BackgroundServer:
    server = BackgroundServer(app)
    server.start()
    servers.append(server)
    return server


@contextmanager
def harness(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    app: SandboxApp | None = None,
    all_providers: bool = False,
    faults: FaultConfig | None = None,
    wrap: Callable[[str, AsgiApp], AsgiApp] | None = None,
) -> Iterator[Harness]:
    """The pipeline configured for the world's OPEN-API customers and, with `all_providers`,
    its JT merchant and Whalet partner too (otherwise JT and Whalet are left unconfigured).

    `faults` (default: the world's) is served by every provider app the harness builds;
    `wrap(provider, app)` may put an app in front of each ("openapi", "jt", "whalet")."""
    app = app or SandboxApp(world, faults)
    servers: list[BackgroundServer] = []

    def served(provider: str, provider_app: AsgiApp) -> BackgroundServer:
        return _serve(wrap(provider, provider_app) if wrap else provider_app, servers)

    for name in PROVIDER_SETTINGS + ALERT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    try:
        server = served("openapi", app)
        monkeypatch.setenv("OPENAPI_BASE_URL", server.base_url)
        monkeypatch.setenv(
            "OPENAPI_CUSTOMERS",
            ",".join(f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world.credentials()),
        )
        private_pem: bytes | None = None
        whalet_app: WhaletApp | None = None
        if all_providers:
            # The key lives outside the data directory, as a deployment's would.
            private_pem, public_pem = generate_merchant_key()
            key_file = tmp_path / "secrets" / "jt_private_key.pem"
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_bytes(private_pem)
            jt = served("jt", JtApp(world, public_pem, faults))
            whalet_app = WhaletApp(world, faults)
            whalet = served("whalet", whalet_app)
            creds = world.whalet.credentials()
            for name, value in {
                "JT_BASE_URL": jt.base_url,
                "JT_APP_ID": world.jt.app_id,
                "JT_PRIVATE_KEY_FILE": str(key_file),
                "WHALET_BASE_URL": whalet.base_url,
                "WHALET_PARTNER_ID": creds["partner_id"],
                "WHALET_CLIENT_ID": creds["client_id"],
                "WHALET_SECRET_KEY": creds["secret_key"],
                "WHALET_USER_IDS": ",".join(creds["user_ids"]),
                # The sandbox's users are every user of its platform.
                "WHALET_USER_IDS_COMPLETE": "true",
            }.items():
                monkeypatch.setenv(name, value)
        with dg.instance_for_test() as instance:
            yield Harness(
                world,
                app,
                server,
                tmp_path / "data",
                instance,
                monkeypatch,
                private_pem,
                whalet_app,
            )
    finally:
        for running in servers:
            running.stop()


ALERT_SETTINGS = tuple(
    f"RECON_ALERT_{name}"
    for name in (
        "WEBHOOK_URL", "SLACK_URL", "MIN_SEVERITY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
        "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TO", "SMTP_SECURITY",
    )
)  # fmt: skip
PROVIDER_SETTINGS = (
    "OPENAPI_CUSTOMER_ID",
    "JT_BASE_URL",
    "JT_APP_ID",
    "JT_PRIVATE_KEY_FILE",
    "WHALET_BASE_URL",
    "WHALET_PARTNER_ID",
    "WHALET_CLIENT_ID",
    "WHALET_SECRET_KEY",
    "WHALET_USER_IDS",
    "WHALET_USER_IDS_COMPLETE",
)
