"""A run that dies (SIGKILL, out of memory, a reboot) never blocks the nights after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.instance import instance_at
from pipelines.recovery import pool_holders
from sandbox import SandboxApp, WorldConfig, build_world
from sandbox.serve import serving
from tests.support.warehouses import content

WORLD = WorldConfig(seed=13, customers=2, days=3, entries_per_day=60, anomalies={"chain_gap": 1})
RANGE = ["--start", "2026-11-09", "--end", "2026-11-12"]


def _env(data_dir: Path, base_url: str) -> dict[str, str]:
    settings = ("OPENAPI_", "JT_", "WHALET_", "RECON_", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    creds = build_world(WORLD).credentials()
    env["OPENAPI_CUSTOMERS"] = ",".join(
        f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in creds
    )
    env["OPENAPI_BASE_URL"] = base_url
    env["RECON_DATA_DIR"] = str(data_dir)
    return env


def _recon(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    recon = str(Path(sys.executable).with_name("recon"))
    return subprocess.run(
        [recon, *args], capture_output=True, text=True, timeout=240, env=env, cwd=cwd
    )


def _kill_while_holding_the_pool(env: dict[str, str], cwd: Path, home: Path) -> str:
    """Start `recon run`, SIGKILL it (and its children) while one of its warehouse steps
    holds the pool; returns the run id left holding it."""
    recon = str(Path(sys.executable).with_name("recon"))
    log = (cwd / "killed.log").open("w")
    proc = subprocess.Popen(
        [recon, "run", *RANGE], env=env, cwd=cwd, stdout=log, stderr=log, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while not (home / "dagster.yaml").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # Opened under the same lock as `recon` opens it: the run may be creating it now.
        with instance_at(home) as instance:
            holders: list[str] = []
            while not holders and proc.poll() is None and time.monotonic() < deadline:
                holders = pool_holders(instance)
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            assert holders, "the run finished before it could be killed holding the pool"
            # The dead run still holds its slot: without recovery the next run would wait.
            assert pool_holders(instance) == holders
            return holders[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


# Slow (make soak, which also kills runs at random): the default suite's budget.
@pytest.mark.slow
def test_a_run_killed_holding_the_warehouse_pool_never_blocks_the_next(tmp_path: Path) -> None:
    world = build_world(WORLD)
    data, clean = tmp_path / "data", tmp_path / "clean"
    with serving(SandboxApp(world)) as server:
        env = _env(data, server.base_url)
        dead = _kill_while_holding_the_pool(env, tmp_path, data / "dagster")
        # A temporary file a killed writer left in the lake an hour ago: nobody fills it now.
        left = data / "lake" / "provider=openapi" / ".data.parquet.0f0f.tmp"
        left.parent.mkdir(parents=True, exist_ok=True)
        left.write_bytes(b"PAR1")
        os.utime(left, (time.time() - 3600, time.time() - 3600))
        again = _recon(["run", *RANGE], env, tmp_path)
        reference = _recon(["run", *RANGE], _env(clean, server.base_url), tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"run {dead} died without finishing" in again.stderr
    assert "1 warehouse pool slot(s) released" in again.stderr
    assert not left.exists() and f"removed {left}" in again.stderr
    assert reference.returncode == 0, reference.stderr
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        run = instance.get_run_by_id(dead)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        assert pool_holders(instance) == []
    # The warehouse after the crash and the re-run is what one clean run makes.
    mine, theirs = content(data / "warehouse.duckdb"), content(clean / "warehouse.duckdb")
    assert mine.keys() == theirs.keys() and mine["raw_openapi__transactions"]
    for table in mine:
        assert mine[table] == theirs[table], table


def test_first_runs_at_once_take_turns_creating_the_instance(tmp_path: Path) -> None:
    """Four processes open the same new instance at the same moment; all of them get it."""
    home = tmp_path / "dagster"
    code = (
        "import sys; from pathlib import Path; from pipelines.instance import instance_at; "
        "instance_at(Path(sys.argv[1])).get_runs(); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outcomes
    assert all(out.strip() == "ok" for out, _ in outcomes)


def test_a_data_dir_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    env = _env(blocked / "data", "http://127.0.0.1:9/v1")
    done = _recon(["run", *RANGE], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("recon: error: cannot write") and "Traceback" not in done.stderr
    assert "RECON_DATA_DIR" in done.stderr
