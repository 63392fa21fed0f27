"""Landing spreads out, DuckDB keeps one writer: each provider's landing is a step of its own
that an executor may run in another process (or container, or pod), none waits for another
provider's, and every step that writes DuckDB is in the `warehouse` pool."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.landing import landing_assets
from assets.recon import recon_assets
from assets.warehouse import POOL, warehouse_assets
from pipelines.definitions import defs
from pipelines.resources import default_resources
from pipelines.schedules import range_tags
from sandbox import WorldConfig, build_world
from tests.support.harness import harness
from tests.support.s3 import BUCKET, s3_server

WORLD = WorldConfig(seed=5, customers=1, days=2, entries_per_day=20)
FIRST, LAST = WORLD.start_date, WORLD.start_date + timedelta(days=WORLD.days - 1)
STEPS = ("lake_openapi__transactions", "lake_jt__balance_records", "lake_whalet__balances")


def _provider(step: str) -> str | None:
    return step.split("__")[0].removeprefix("lake_") if step.startswith("lake_") else None


def test_landing_steps_are_independent_per_provider_and_writers_share_one_pool() -> None:
    job = defs.resolve_job_def("recon")
    # Dagster's default: steps in processes of their own when the run is launched (daemon, UI).
    assert job.executor_def.name == "multi_or_in_process_executor"
    nodes = {node.name: node for node in job.graph.nodes}
    # A landing asset is one op: its step waits for the asset's deps only.
    upstream = {
        a.key.to_user_string(): {d.to_user_string() for d in a.dependency_keys}
        for a in landing_assets
    }
    landing = {name for name in nodes if name.startswith("lake_")}
    assert {_provider(n) for n in landing} == {"openapi", "jt", "whalet"}
    for name in landing:
        assert not nodes[name].definition.pools, name
        assert all(_provider(up) == _provider(name) for up in upstream[name]), name
    for name in set(nodes) - landing:
        assert nodes[name].definition.pools == {POOL}, name


def landing_job() -> dg.JobDefinition:
    """Three providers' landing, as a job a child process can rebuild: its settings (data
    directory, providers, the lake) come from the environment, as a launched run's do."""
    return dg.Definitions(
        assets=[*landing_assets, *warehouse_assets, *recon_assets],
        jobs=[dg.define_asset_job("landing", selection=list(STEPS))],
        resources=default_resources(),
    ).resolve_job_def("landing")


# Slow (make soak): three step processes and an S3 server; the graph test above keeps the
# steps' separation and pools in the default suite.
@pytest.mark.slow
def test_the_multiprocess_executor_lands_each_provider_in_its_own_process_into_the_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        s3_server(monkeypatch) as s3,
        harness(build_world(WORLD), tmp_path, monkeypatch, all_providers=True) as h,
    ):
        monkeypatch.setenv("RECON_DATA_DIR", str(h.data_dir))
        monkeypatch.setenv("RECON_LAKE_URL", f"s3://{BUCKET}/lake")
        with dg.execute_job(
            dg.reconstructable(landing_job), h.instance, tags=range_tags(FIRST, LAST)
        ) as result:
            assert result.success
            started = {
                e.step_key: e.pid for e in result.all_events if e.event_type_value == "STEP_START"
            }
        keys = s3.keys("lake")
    assert set(started) == set(STEPS)
    assert len(set(started.values())) == len(STEPS) and os.getpid() not in started.values()
    for step in STEPS:
        entity = step.removeprefix("lake_").replace("__", "/entity=")
        assert any(f"/provider={entity}/" in k for k in keys), (step, keys)
