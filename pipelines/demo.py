"""`recon demo`: the whole pipeline against the embedded sandbox of all three providers."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from pipelines.cli import data_dir, open_published, run_days, write_report


def run_demo(seed: int) -> int:
    """The pipeline on the embedded sandbox, then how its breaks compare with what was planted."""
    from sandbox import build_world, default_config
    from sandbox.serve import serving_all

    world = build_world(default_config(seed))
    # The demo keeps its own warehouse so sandbox rows never mix with a real provider's.
    demo_dir = data_dir() / "demo"
    for folder in ("lake", "work", "alerts"):
        shutil.rmtree(demo_dir / folder, ignore_errors=True)
    (demo_dir / "warehouse.duckdb").unlink(missing_ok=True)
    # Sandbox breaks must never reach a real operations channel: the demo alerts to the log.
    for name in [n for n in os.environ if n.startswith("RECON_ALERT_")]:
        del os.environ[name]
    # The JT merchant key is a secret: it lives outside the data directory, for this run only.
    with tempfile.TemporaryDirectory(prefix="recon-demo-") as secrets, serving_all(world) as s:
        key_file = Path(secrets) / "jt_private_key.pem"
        key_file.touch(mode=0o600)
        key_file.write_bytes(s.jt_private_key_pem)
        print(f"sandbox (seed {seed}): OPEN-API at {s.openapi.base_url}")
        print(f"  JT wallet at {s.jt.base_url}, Whalet at {s.whalet.base_url}")
        whalet = world.whalet.credentials()
        os.environ.update(
            {
                "OPENAPI_BASE_URL": s.openapi.base_url,
                "OPENAPI_CUSTOMERS": ",".join(
                    f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in world.credentials()
                ),
                "OPENAPI_TIMEZONE": world.cfg.timezone,
                "JT_BASE_URL": s.jt.base_url,
                "JT_APP_ID": world.jt.app_id,
                "JT_PRIVATE_KEY_FILE": str(key_file),
                "JT_TIMEZONE": world.cfg.timezone,
                "WHALET_BASE_URL": s.whalet.base_url,
                "WHALET_PARTNER_ID": whalet["partner_id"],
                "WHALET_CLIENT_ID": whalet["client_id"],
                "WHALET_SECRET_KEY": whalet["secret_key"],
                "WHALET_USER_IDS": ",".join(whalet["user_ids"]),
                "RECON_DATA_DIR": str(demo_dir),
            }
        )
        first = world.cfg.start_date
        code = run_days(first, first + timedelta(days=world.cfg.days - 1))
    if code == 0:
        print_planted_vs_found(world.manifest()["anomalies"])
        print(f"\nreport: {write_report(None)}")
        print(
            f"\nlist them: RECON_DATA_DIR={demo_dir} recon breaks"
            "\nor open the warehouse above with duckdb (read-only) to look around"
        )
    return code


def print_planted_vs_found(planted: list[dict[str, object]]) -> None:
    """How the checks did against the sandbox's ground truth (its anomaly manifest)."""
    with open_published() as con:
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
