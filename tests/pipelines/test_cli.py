"""The commands a new user runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_recon_demo_prints_row_counts(tmp_path: Path) -> None:
    recon = Path(sys.executable).with_name("recon")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAPI_", "DAGSTER_HOME"))}
    env["RECON_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [str(recon), "demo"], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    counts = {
        parts[1]: int(parts[-2])
        for parts in (line.split() for line in lines)
        if len(parts) >= 4 and parts[0] == "openapi"
    }
    assert counts["transactions"] > 1000 and counts["orders"] > 100
    assert counts["card_trades"] > 100 and counts["wallets"] == 12
    assert "transactions 2026-11-09 (1/7)" in done.stderr  # progress on the terminal
    assert (tmp_path / "demo" / "warehouse.duckdb").exists()


def test_recon_run_rejects_an_empty_range() -> None:
    recon = Path(sys.executable).with_name("recon")
    done = subprocess.run(
        [str(recon), "run", "--start", "2026-11-10", "--end", "2026-11-10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--end must be after --start" in done.stderr
