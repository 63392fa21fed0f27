"""What an operator runs from deploy/, short of running it: the compose file, the image's
entrypoint and the systemd units. (tests/pipelines/test_production.py runs deploy/dagster.yaml
and deploy/workspace.yaml for real, with the daemon and PostgreSQL.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_postgres_the_webserver_and_the_daemon_on_the_deploy_profile() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "webserver", "daemon"}
    for name in ("webserver", "daemon"):
        service = services[name]
        assert "deploy/workspace.yaml" in service["command"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        # The image's own folders, whatever the operator's settings file says.
        assert service["environment"]["DAGSTER_HOME"] == "/opt/dagster/home"
    assert (DEPLOY / "workspace.yaml").exists()
    # The UI has no login: published on the host's loopback only.
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]


def test_compose_takes_secrets_from_files_it_is_told_of_and_holds_none() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    # Every setting compose needs is required: a missing one stops it, rather than mounting
    # "/pg_password" or starting without settings.
    assert all(m.group(2) for m in re.finditer(r"\$\{(\w+)(:\?[^}]+)?\}", text))
    assert not re.search(r"PASSWORD\s*:", text)  # only *_PASSWORD_FILE: paths
    services = compose()["services"]
    assert "POSTGRES_PASSWORD_FILE" in services["postgres"]["environment"]


def test_the_entrypoint_reads_the_database_password_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "pg_password"
    secret.write_text("s3cret-from-file\n")
    done = subprocess.run(
        [str(DEPLOY / "entrypoint.sh"), sys.executable, "-c",
         "import os; print(repr(os.environ['RECON_PG_PASSWORD']))"],
        env={"PATH": "/usr/bin:/bin", "RECON_PG_PASSWORD_FILE": str(secret)},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "'s3cret-from-file'"


def test_the_image_installs_exactly_the_lock() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile
    assert re.search(r"^USER wallet-recon$", dockerfile, re.MULTILINE)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_units_run_as_their_own_user_on_the_deploy_profile(
    unit: Path, tmp_path: Path
) -> None:
    text = unit.read_text()
    assert "User=wallet-recon" in text
    assert "EnvironmentFile=/etc/wallet-recon/recon.env" in text
    assert "Environment=DAGSTER_HOME=/var/lib/wallet-recon/dagster" in text
    assert "-w /opt/wallet-recon/deploy/workspace.yaml" in text
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed: the unit's syntax was not verified")
    # systemd checks every directive; it also wants the programs to exist, so the unit is
    # pointed at this checkout and its virtual environment.
    checkout = DEPLOY.parent
    local = tmp_path / unit.name
    local.write_text(text.replace("/opt/wallet-recon/.venv/bin", str(Path(sys.executable).parent)))
    local.write_text(local.read_text().replace("/opt/wallet-recon", str(checkout)))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_there_is_a_unit_for_the_webserver_and_one_for_the_daemon() -> None:
    assert [u.name for u in UNITS] == [
        "wallet-recon-daemon.service",
        "wallet-recon-webserver.service",
    ]
