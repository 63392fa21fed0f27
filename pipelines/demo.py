"""`recon demo`: the whole pipeline against the embedded sandbox of all three providers."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from assets.resources import WarehouseResource
from pipelines import exit_codes
from pipelines.resources import RunConfig
from pipelines.runs import open_published, run_days, write_report
from sandbox import World, build_world, default_config
from sandbox.serve import ProviderServers, serving_all


def run_demo(seed: int) -> int:
    """The pipeline on the embedded sandbox, then how its breaks compare with what was planted."""
    world = build_world(default_config(seed))
    # The demo keeps its own warehouse so sandbox rows never mix with a real provider's.
    demo = WarehouseResource().demo()
    demo.clear()
    # The secrets live outside the data directory, for this run only; the run's config (which
    # Dagster stores with the run) names their files, never holds them.
    with tempfile.TemporaryDirectory(prefix="recon-demo-") as secrets, serving_all(world) as s:
        print(f"sandbox (seed {seed}): OPEN-API at {s.openapi.base_url}")
        print(f"  JT wallet at {s.jt.base_url}, Whalet at {s.whalet.base_url}")
        config = demo_config(world, s, demo, Path(secrets))
        first = world.cfg.start_date
        code = run_days(first, first + timedelta(days=world.cfg.days - 1), config)
    if code == exit_codes.OK:
        print_planted_vs_found(demo, world.manifest()["anomalies"])
        print(f"\nreport: {write_report(demo)}")
        recon = command_path()
        print(
            f"\nlist them: RECON_DATA_DIR={demo.root()} {recon} breaks"
            f"\nquery them: RECON_DATA_DIR={demo.root()} {recon} sql"
            "\nthe Dagster UI on the demo's run: make demo-ui"
        )
    return code


def command_path() -> str:
    """How to call `recon` again from here: the script this process runs, relative to the
    current folder when it is below it (`.venv/bin/recon` is not on PATH by default)."""
    # Absolute but not resolved: a `.venv` that is a symlink stays `.venv/bin/recon`.
    script = Path(os.path.abspath(sys.argv[0]))
    if script.name != "recon" or not script.exists():
        return "recon"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _secret(folder: Path, name: str, content: bytes) -> str:
    path = folder / name
    path.touch(mode=0o600)
    path.write_bytes(content)
    return str(path)


def demo_config(
    world: World, s: ProviderServers, demo: WarehouseResource, secrets: Path
) -> RunConfig:
    """The run's resource config: the sandbox's addresses and clock, the files holding its
    credentials, the demo's warehouse, and alerts to the log only (sandbox breaks must never
    reach a real operations channel)."""
    customers = "\n".join(
        f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world.credentials()
    )
    whalet = world.whalet.credentials()
    zone = world.cfg.timezone
    return {
        "warehouse": {"data_dir": str(demo.root()), "lake_url": demo.lake_url},
        "openapi": {
            "base_url": s.openapi.base_url,
            "timezone": zone,
            "customers_file": _secret(secrets, "openapi_customers", customers.encode()),
        },
        "jt": {
            "base_url": s.jt.base_url,
            "timezone": zone,
            "app_id": world.jt.app_id,
            "private_key_file": _secret(secrets, "jt_private_key.pem", s.jt_private_key_pem),
        },
        "whalet": {
            "base_url": s.whalet.base_url,
            "partner_id": whalet["partner_id"],
            "client_id": whalet["client_id"],
            "secret_key_file": _secret(secrets, "whalet_secret", whalet["secret_key"].encode()),
            "user_ids": ",".join(whalet["user_ids"]),
            # The sandbox serves the demo every user of its platform.
            "user_ids_complete": True,
        },
        "alerts": {"log_only": True, "min_severity_level": "warn"},
    }


def print_planted_vs_found(demo: WarehouseResource, planted: list[dict[str, object]]) -> None:
    """How the checks did against the sandbox's ground truth (its anomaly manifest)."""
    with open_published(demo) as con:
        rows = con.execute(
            "select provider, check_name, account_id, entity_id from fct_breaks "
            "where status <> 'resolved'"
        ).fetchall()
    found = {tuple(str(v) for v in r) for r in rows}
    keys = ("provider", "check_name", "account_id", "entity_id")
    truth = {tuple(str(p[k]) for k in keys) for p in planted}
    missed = sorted({f"{p}/{c}" for p, c, _, _ in truth - found})
    providers = ", ".join(
        f"{p} {sum(1 for t in truth if t[0] == p)}" for p in sorted({t[0] for t in truth})
    )
    print(
        f"\nthe sandbox planted {len(truth)} anomalies ({providers}; docs/sandbox.md): "
        f"{len(truth & found)} found as breaks, {len(found - truth)} breaks it did not plant"
    )
    if missed:
        print(f"  not found: {', '.join(missed)}")
