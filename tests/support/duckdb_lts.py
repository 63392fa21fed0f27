"""DuckDB 1.4 LTS, the oldest DuckDB analysts' tools may have, in a virtualenv of its own.

The environment is built once from PyPI under `.venv/duckdb-1.4` (beside the project's own)
and reused while it holds a 1.4 release. Without PyPI the build fails, and so does the test
that asked for it: a test about older readers that skipped would prove nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import query_reader

LTS = "1.4"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV = PROJECT_ROOT / ".venv" / f"duckdb-{LTS}"


def _duckdb_version(python: Path) -> str:
    if not python.exists():
        return ""
    done = subprocess.run(
        [str(python), "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def lts_python() -> Path:
    """The python of an environment with `duckdb==1.4.*` and nothing of this project."""
    python = VENV / "bin" / "python"
    if _duckdb_version(python).startswith(f"{LTS}."):
        return python
    # Built beside and renamed into place, so a build cut short is never taken for one.
    building = VENV.with_name(f"{VENV.name}.{os.getpid()}.building")
    shutil.rmtree(building, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
        pip = subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", f"duckdb=={LTS}.*"],
            capture_output=True,
            text=True,
            timeout=900,
        )  # fmt: skip
        if pip.returncode != 0:
            raise RuntimeError(
                f"could not install duckdb=={LTS}.* from PyPI into {building}:\n"
                f"{pip.stdout}{pip.stderr}"
            )
        shutil.rmtree(VENV, ignore_errors=True)
        # Another test process may have put one there first; it is as good.
        with contextlib.suppress(OSError):
            os.replace(building, VENV)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    version = _duckdb_version(python)
    if not version.startswith(f"{LTS}."):
        raise RuntimeError(f"{VENV} has duckdb {version or '(none)'}, not {LTS}.*")
    return python


def read_with_lts(warehouse: Path, queries: list[str]) -> dict[str, Any]:
    """What DuckDB 1.4 makes of `queries` on `warehouse`, opened read-only in its own process
    (`query_reader.read`)."""
    done = subprocess.run(
        [str(lts_python()), query_reader.__file__, str(warehouse)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"DuckDB {LTS} could not read {warehouse}:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
