"""`make bench`: what a nightly run costs after N days of history, against the same run on an
empty warehouse (issue 15, acceptance 1).

One sandbox world of `DAYS` days is served over loopback. Each run is a child process (its peak
RSS is its own): the history (days 1..N-2) into one data dir, a first night (day N-1, which
leaves both snapshot slots in place), then the measured night (day N, no lookback) into it;
and the same night into an empty data dir. Reported: wall time, the `reconcile` step's time
(checks and publishing) and peak RSS, night-after-history / night-on-empty. Publishing (the
standby brought up to date with the night's changes) is compared with the same two nights after
a history of two days (same changes, a tenth of the history), with building the whole snapshot
after history, and with a byte copy of the working file.

    python -m benchmarks.nightly [--customers 10] [--days 21] [--entries-per-day 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sandbox import WorldConfig, build_world
from sandbox.serve import serving_all


def _child(args: argparse.Namespace) -> None:
    """One `recon run` in this process, printing its figures as JSON on the last line."""
    import dagster as dg

    from assets.resources import WarehouseResource
    from pipelines.instance import open_instance
    from pipelines.runs import run_days

    config = json.loads(Path(args.config).read_text())
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    started = time.perf_counter()
    code = run_days(first, last, config)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"run {first}..{last} exited {code}")
    warehouse = WarehouseResource(data_dir=config["warehouse"]["data_dir"])
    instance = open_instance(warehouse)
    run = instance.get_run_records(dg.RunsFilter(job_name="recon"), limit=1)[0]
    steps = {
        s.step_key: (s.end_time or 0) - (s.start_time or 0)
        for s in instance.get_run_step_stats(run.dagster_run.run_id)
    }
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    snapshot = instance.get_latest_materialization_event(dg.AssetKey("warehouse_snapshot"))
    assert snapshot is not None and snapshot.asset_materialization is not None
    said = {k: v.value for k, v in snapshot.asset_materialization.metadata.items()}
    figures = {"wall": wall, "steps": steps, "peak_mib": peak_kib / 1024, "snapshot": said}
    print(json.dumps(figures, default=str))


def _run(config: dict[str, Any], first: date, last: date, folder: Path) -> dict[str, Any]:
    path = folder / f"config-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.nightly",
            "--child",
            "--config",
            str(path),
            "--first",
            first.isoformat(),
            "--last",
            last.isoformat(),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _whole_seconds(data: Path, folder: Path) -> float:
    """What building the whole snapshot of the working warehouse after the measured night
    costs (from a copy of the working file), the way a full re-check publishes."""
    from store import duck, publish

    work, slot = folder / "work-copy.duckdb", folder / "whole.duckdb"
    shutil.copyfile(data / "work" / "warehouse.duckdb", work)
    started = time.perf_counter()
    with duck.connect_file(work) as con:
        row = con.execute("select run_id from recon_publication").fetchone()
        assert row is not None
        publish.build_whole(con, slot, str(row[0]))
    seconds = time.perf_counter() - started
    work.unlink()
    slot.unlink()
    return seconds


def _copy_seconds(source: Path, copy: Path) -> float:
    """What publishing cost before the slots: a byte copy of the working file, synced."""
    started = time.perf_counter()
    shutil.copyfile(source, copy)
    with copy.open("rb+") as f:
        os.fsync(f.fileno())
    seconds = time.perf_counter() - started
    copy.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--config")
    parser.add_argument("--first")
    parser.add_argument("--last")
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--entries-per-day", type=int, default=1500)
    parser.add_argument("--keep", help="keep the data dirs in this folder (for profiling)")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    from assets.resources import WarehouseResource
    from pipelines.demo import demo_config

    # The world ends yesterday or earlier: a day that has not ended yet is not a night's run.
    cfg = WorldConfig(
        seed=3,
        customers=args.customers,
        days=args.days,
        entries_per_day=args.entries_per_day,
        start_date=date.today() - timedelta(days=args.days + 1),
    )
    world = build_world(cfg)
    entries = sum(len(c.entries) for c in world.customers)
    night = cfg.start_date + timedelta(days=cfg.days - 1)
    print(f"world: {cfg.customers} customers x {cfg.days} days, {entries} OPEN-API entries")
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp, serving_all(world) as s:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        history, empty, short = folder / "history", folder / "empty", folder / "short"
        secrets = folder / "secrets"
        secrets.mkdir()

        def config(root: Path) -> dict[str, Any]:
            # Each run writes the secret files afresh (demo_config refuses none, creates them).
            for old in secrets.iterdir():
                old.unlink()
            return dict(demo_config(world, s, WarehouseResource(data_dir=str(root)), secrets))

        before = night - timedelta(days=1)
        loaded = _run(config(history), cfg.start_date, before - timedelta(days=1), folder)
        print(
            f"history ({cfg.days - 2} days): {loaded['wall']:.1f} s, "
            f"peak {loaded['peak_mib']:.0f} MiB"
        )
        _run(config(history), before, before, folder)
        after = _run(config(history), night, night, folder)
        alone = _run(config(empty), night, night, folder)
        # The same two nights after a history of two days: the standby is brought up to date
        # with the same changes as after the long history.
        _run(config(short), before - timedelta(days=2), before - timedelta(days=1), folder)
        _run(config(short), before, before, folder)
        brief = _run(config(short), night, night, folder)
        copy_seconds = _copy_seconds(history / "work" / "warehouse.duckdb", folder / "copy.duckdb")
        whole_seconds = _whole_seconds(history, folder)
    for label, figures in (("after history", after), ("on empty", alone)):
        said = figures["snapshot"]
        print(
            f"night {label}: checks {said['check_seconds']} s, publish "
            f"{said['publish_seconds']} s ({said['how']}), {said['size_bytes'] // 2**20} MiB"
        )
        slow = sorted(figures["steps"].items(), key=lambda kv: -kv[1])[:6]
        print(
            f"night {label}: wall {figures['wall']:.1f} s, peak {figures['peak_mib']:.0f} MiB; "
            + ", ".join(f"{k} {v:.1f}" for k, v in slow)
        )
    print(f"wall      {after['wall'] / alone['wall']:.2f}x  (target <= 1.5x)")
    rec_a, rec_e = after["steps"]["reconcile"], alone["steps"]["reconcile"]
    print(f"reconcile {rec_a / rec_e:.2f}x  (target <= 2x)")
    print(f"peak RSS  {after['peak_mib'] / alone['peak_mib']:.2f}x  (target <= 1.3x)")
    published, brief_published = after["snapshot"], brief["snapshot"]
    print(
        f"publish   {published['publish_seconds'] / brief_published['publish_seconds']:.2f}x  "
        f"({published['publish_seconds']} s after {cfg.days - 2} days of history, "
        f"{brief_published['publish_seconds']} s after 2 days, the same night's changes; "
        f"{published['how']} / {brief_published['how']})"
    )
    print(
        f"publish   {published['publish_seconds'] / whole_seconds:.2f}x building the whole "
        f"snapshot after history ({whole_seconds:.2f} s), "
        f"{published['publish_seconds'] / copy_seconds:.2f}x a byte copy of the working file "
        f"({copy_seconds:.2f} s)"
    )


if __name__ == "__main__":
    main()
