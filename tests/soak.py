"""`make soak`: sandbox worlds served with every transport fault on, `recon run` killed at
random points and started again, and what it cost, per seed.

    python -m tests.soak [--seeds N] [--kills K] [--timeout SECONDS]

For each seed: a small world with planted anomalies is served over loopback HTTP with every
fault kind at 3% and page shifts at 10%. `recon run` is started as an operator's cron would
start it, SIGKILLed K times at random moments (with its children), then run once more to the
end. The warehouse is compared with what the sandbox serves without faults and the breaks
with the planted anomalies. Printed per seed: rows lost, rows duplicated, runs failed, runs
hung (past the timeout), breaks missed, breaks invented. Exits 1 if any seed lost, duplicated,
hung, missed or invented anything.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb

from sandbox import FAULT_KINDS, FaultConfig, SandboxApp, WorldConfig, build_world
from sandbox.serve import serving
from tests.support.worlds import pull_world

RECON = str(Path(sys.executable).with_name("recon"))


@dataclass
class Soaked:
    seed: int
    lost: int = 0
    duplicated: int = 0
    failed: int = 0
    hung: int = 0
    missed: int = 0
    invented: int = 0

    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.hung or self.missed or self.invented)


def _env(world_credentials: list[dict[str, str]], base_url: str, data: Path) -> dict[str, str]:
    settings = ("OPENAPI_", "JT_", "WHALET_", "RECON_", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    env["OPENAPI_BASE_URL"] = base_url
    env["OPENAPI_CUSTOMERS"] = ",".join(
        f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world_credentials
    )
    env["RECON_DATA_DIR"] = str(data)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float, kill_after: float | None) -> str:
    """'ok', 'failed', 'hung' or 'killed'."""
    proc = subprocess.Popen(
        [RECON, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    limit = timeout if kill_after is None else min(timeout, kill_after)
    try:
        code = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "killed" if kill_after is not None and kill_after < timeout else "hung"
    return "ok" if code == 0 else "failed"


def soak(seed: int, kills: int, timeout: float, folder: Path) -> Soaked:
    cfg = WorldConfig(seed=seed, customers=2, days=3, entries_per_day=80)
    world = build_world(cfg)
    rates = {kind: 0.03 for kind in FAULT_KINDS if kind != "page_shift"}
    faults = FaultConfig(rates | {"page_shift": 0.1}, retry_after_seconds=0, slow_seconds=0.5)
    last = cfg.start_date + timedelta(days=cfg.days)
    args = ["run", "--start", cfg.start_date.isoformat(), "--end", last.isoformat()]
    result = Soaked(seed)
    rng = random.Random(seed)
    data = folder / f"seed-{seed}"
    with serving(SandboxApp(world, faults)) as server:
        env = _env(world.credentials(), server.base_url, data)
        for _ in range(kills):
            outcome = _run(args, env, timeout, kill_after=rng.uniform(1.0, 20.0))
            result.failed += outcome == "failed"
            result.hung += outcome == "hung"
        for _ in range(3):  # a failed night is retried, as cron would the next night
            outcome = _run(args, env, timeout, kill_after=None)
            result.failed += outcome == "failed"
            result.hung += outcome == "hung"
            if outcome == "ok":
                break
    published = data / "warehouse.duckdb"
    if not published.exists():
        result.lost = -1  # nothing to compare: every run failed
        return result
    served = {
        (str(c["customer_id"]), e["transaction_id"], int(e["in_out_type"]), e["currency"])
        for c in pull_world(world)
        for e in c["entries"]
    }
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select customer_id::varchar, transaction_id, in_out_type, currency "
            "from raw_openapi__transactions"
        ).fetchall()
        found = {
            tuple(str(v) for v in r)
            for r in con.execute(
                "select check_name, account_id, entity_id from fct_breaks "
                "where status <> 'resolved' and provider = 'openapi'"
            ).fetchall()
        }
    stored = {(r[0], r[1], int(r[2]), r[3]) for r in rows}
    result.lost = len(served - stored)
    result.duplicated = len(rows) - len(stored) + len(stored - served)
    planted = {
        (a["check_name"], str(a["account_id"]), str(a["entity_id"]))
        for a in world.manifest()["anomalies"]
        if a["provider"] == "openapi"
    }
    result.missed = len(planted - found)
    result.invented = len(found - planted)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    names = [("seed", 5), ("lost", 5), ("dup", 5), ("failed", 6), ("hung", 5)]
    names += [("missed", 6), ("invented", 8)]
    print(" ".join(name.rjust(width) for name, width in names), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="recon-soak-") as folder:
        for seed in range(1, args.seeds + 1):
            started = time.monotonic()
            r = soak(seed, args.kills, args.timeout, Path(folder))
            results.append(r)
            print(
                f"{r.seed:>5} {r.lost:>5} {r.duplicated:>5} {r.failed:>6} {r.hung:>5} "
                f"{r.missed:>6} {r.invented:>8}   ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    clean = sum(r.clean() for r in results)
    print(f"{clean} of {len(results)} seeds clean (failed runs are retried, not counted as dirt)")
    return 0 if clean == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
