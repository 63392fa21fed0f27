"""The commands a new user runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg

from sandbox import SandboxApp, WorldConfig, build_world, default_config
from sandbox.serve import serving


def test_recon_demo_prints_row_counts_and_the_readme_next_commands_work(tmp_path: Path) -> None:
    """`make demo` runs `.venv/bin/recon demo` in the project folder; a folder with the same
    `.venv` stands in for a fresh clone, so the README's lines run there as written."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(Path(sys.executable).parent.parent)
    settings = ("OPENAPI_", "JT_", "WHALET_", "RECON_", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    done = subprocess.run(
        [".venv/bin/recon", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    counts = {
        (parts[0], parts[1]): int(parts[-2])
        for parts in (line.split() for line in lines)
        if len(parts) >= 4 and parts[0] in ("openapi", "jt", "whalet")
    }
    assert counts["openapi", "transactions"] > 1000 and counts["openapi", "orders"] > 100
    assert counts["openapi", "card_trades"] > 100 and counts["openapi", "wallets"] == 15
    assert counts["jt", "balance_records"] > 100 and counts["jt", "users"] == 4
    assert counts["whalet", "balances"] > 0
    assert "transactions 2026-11-09 (1/7)" in done.stderr  # progress on the terminal
    assert (project / "data" / "demo" / "warehouse.duckdb").exists()
    assert re.search(r"chain_gap\s+openapi\s+error\s+2\s", done.stdout)
    assert re.search(r"card_balance_mismatch\s+openapi\s+error\s+2\s", done.stdout)
    assert re.search(r"chain_gap\s+jt\s+error\s+1\s", done.stdout)
    assert re.search(r"money_unit_mismatch\s+whalet\s+error\s+2\s", done.stdout)
    assert re.search(r"refund_without_origin\s+openapi\s+warn\s+3\s", done.stdout)
    assert re.search(r"payment_return_missing\s+openapi\s+error\s+2\s", done.stdout)
    assert re.search(r"closed_card_balance\s+openapi\s+error\s+2\s", done.stdout)
    assert re.search(r"wallet_freeze_mismatch\s+openapi\s+warn\s+1\s", done.stdout)
    assert re.search(r"whalet_platform_mismatch\s+whalet\s+error\s+1\s", done.stdout)
    assert re.search(r"transfer_unmatched\s+openapi\s+error\s+1\s", done.stdout)
    assert re.search(r"transfer_amount_mismatch\s+openapi\s+error\s+1\s", done.stdout)
    assert "Traceback" not in done.stderr and "STEP_FAILURE" not in done.stderr
    assert (
        "35 anomalies (jt 6, openapi 26, whalet 3; docs/sandbox.md): "
        "35 found as breaks, 0 breaks it did not plant"
    ) in done.stdout
    _the_demo_run_carries_its_settings_as_config_and_no_secret(project / "data" / "demo")
    assert f"RECON_DATA_DIR={project / 'data' / 'demo'} .venv/bin/recon breaks" in done.stdout
    _the_readme_next_commands_work_as_written(project, env)


def _the_readme_next_commands_work_as_written(project: Path, env: dict[str, str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- after-demo:", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 3
    outputs = []
    for line in lines:
        ran = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, timeout=120, env=env, cwd=project
        )
        assert ran.returncode == 0, f"{line}\n{ran.stdout}{ran.stderr}"
        assert "Traceback" not in ran.stderr
        outputs.append(ran.stdout)
    assert "chain_gap" in outputs[0] and "breaks" in outputs[0]
    assert "money_unit_mismatch" in outputs[1] and "chain_gap" in outputs[1]
    assert (project / "data" / "demo" / "reports" / "recon-report.html").exists()


def _the_demo_run_carries_its_settings_as_config_and_no_secret(demo: Path) -> None:
    """The demo configures its run through resource config (stored with the run), not by
    editing the environment; secrets stay in files the config names."""
    with dg.DagsterInstance.from_config(str(demo / "dagster")) as instance:
        (run,) = instance.get_runs()
    resources: Any = run.run_config["resources"]
    assert resources["warehouse"]["config"]["data_dir"] == str(demo)
    assert resources["alerts"]["config"]["log_only"] is True
    assert resources["openapi"]["config"]["base_url"].startswith("http://127.0.0.1:")
    assert set(resources) == {"warehouse", "openapi", "jt", "whalet", "alerts"}
    world = build_world(default_config())
    secrets = [c["key"] for c in world.credentials()] + [world.whalet.credentials()["secret_key"]]
    stored = json.dumps(run.run_config)
    assert all(len(secret) >= 16 and secret not in stored for secret in secrets)
    assert "PRIVATE KEY" not in stored


def test_recon_run_rejects_an_empty_range() -> None:
    recon = Path(sys.executable).with_name("recon")
    done = subprocess.run(
        [str(recon), "run", "--start", "2026-11-10", "--end", "2026-11-10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--end must be after --start" in done.stderr


def _recon(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    recon = Path(sys.executable).with_name("recon")
    return subprocess.run([str(recon), *args], capture_output=True, text=True, timeout=300, env=env)


def test_breaks_are_findings_unless_asked_to_fail(tmp_path: Path) -> None:
    world = build_world(WorldConfig(seed=5, customers=1, days=2, anomalies={"chain_gap": 1}))
    providers = ("OPENAPI_", "JT_", "WHALET_", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(providers)}
    env["RECON_DATA_DIR"] = str(tmp_path)
    (creds,) = world.credentials()
    env["OPENAPI_CUSTOMERS"] = f"{creds['customer_id']}:{creds['app_id']}:{creds['key']}"
    days = ["--start", "2026-11-09", "--end", "2026-11-11"]
    with serving(SandboxApp(world)) as server:
        env["OPENAPI_BASE_URL"] = server.base_url
        plain = _recon(["run", *days], env)
        strict = _recon(["run", *days, "--fail-on-breaks"], env)
    assert plain.returncode == 0, plain.stderr
    summary = plain.stdout[plain.stdout.index("breaks (") :]
    assert re.search(r"chain_gap\s+openapi\s+error\s+1\s+0\s+0\s+USD \d+\.\d\d", summary)
    assert strict.returncode == 3 and "open error breaks" in strict.stderr

    listed = _recon(["breaks", "--check", "chain_gap"], env)
    (planted,) = world.manifest()["anomalies"]
    assert listed.returncode == 0 and planted["entity_id"] in listed.stdout
    assert planted["difference"] in listed.stdout and "source: " in listed.stdout
    assert "1 breaks" in listed.stdout
    assert "no resolved breaks" in _recon(["breaks", "--status", "resolved"], env).stdout
    unknown = _recon(["breaks", "--check", "no_such_check"], env)
    assert unknown.returncode == 2 and "unknown check" in unknown.stderr
    unknown = _recon(["breaks", "--provider", "open-api"], env)
    assert unknown.returncode == 2 and "unknown provider 'open-api'" in unknown.stderr
    assert "openapi, jt, whalet" in unknown.stderr
    # A reader that stops early (`recon breaks | head`) ends nothing in a traceback.
    reader = subprocess.Popen(
        [str(Path(sys.executable).with_name("recon")), "breaks", "--status", "open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def _bare_env(tmp_path: Path) -> dict[str, str]:
    """The environment without any provider, alert or Dagster setting."""
    settings = ("OPENAPI_", "JT_", "WHALET_", "RECON_", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    env["RECON_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_a_run_with_no_provider_configured_exits_2_naming_what_to_set(tmp_path: Path) -> None:
    recon = Path(sys.executable).with_name("recon")
    done = subprocess.run(
        [str(recon), "run", "--start", "2026-11-09", "--end", "2026-11-16"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_bare_env(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    for setting in ("OPENAPI_BASE_URL", "JT_BASE_URL", "WHALET_BASE_URL", "OPENAPI_CUSTOMERS"):
        assert setting in done.stderr
    assert "every check passed" not in done.stdout and "Traceback" not in done.stderr
    assert "BetaWarning" not in done.stderr
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_recon_reads_dot_env_in_the_current_folder_and_the_environment_wins(
    tmp_path: Path,
) -> None:
    recon = Path(sys.executable).with_name("recon")
    (tmp_path / ".env").write_text(
        "RECON_DATA_DIR=from-dot-env   # a comment, as in .env.example\n"
    )
    env = _bare_env(tmp_path)
    del env["RECON_DATA_DIR"]
    done = subprocess.run(
        [str(recon), "breaks"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert done.returncode == 2 and f"no warehouse at {tmp_path / 'from-dot-env'}" in done.stderr
    env["RECON_DATA_DIR"] = str(tmp_path / "from-env")
    done = subprocess.run(
        [str(recon), "breaks"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert done.returncode == 2 and f"no warehouse at {tmp_path / 'from-env'}" in done.stderr
