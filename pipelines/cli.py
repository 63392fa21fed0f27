"""The `recon` command: a thin shell over the Dagster definitions and the sandbox."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dagster is imported lazily: `recon --help` and the sandbox start fast
    import duckdb
    from dagster import DagsterInstance

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(os.environ.get("RECON_DATA_DIR") or "data").resolve()


def _instance() -> DagsterInstance:
    """The configured Dagster instance: $DAGSTER_HOME, else $RECON_DATA_DIR/dagster."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if home:
        return dg.DagsterInstance.get()
    folder = data_dir() / "dagster"
    folder.mkdir(parents=True, exist_ok=True)
    config = PROJECT_ROOT / "dagster.yaml"
    if config.exists() and not (folder / "dagster.yaml").exists():
        shutil.copy(config, folder / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(folder))


def _progress_to_terminal() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    progress = logging.getLogger("recon")
    progress.setLevel(logging.INFO)
    if not progress.handlers:
        progress.addHandler(handler)
    # httpx logs every request at INFO; retries are reported by recon.http already.
    logging.getLogger("httpx").setLevel(logging.WARNING)


PROVIDERS = {"OPEN-API": "OPENAPI_BASE_URL", "JT": "JT_BASE_URL", "Whalet": "WHALET_BASE_URL"}
EXIT_FAILED = 1
EXIT_OPEN_BREAKS = 3  # --fail-on-breaks: the run worked and found open error breaks


def run_days(first: date, last: date, fail_on_breaks: bool = False) -> int:
    """Materialise the pipeline for first..last (inclusive) as one Dagster run.

    Failed blocking asset checks (open breaks) are findings, not a failed run: the summary
    shows them, and only `fail_on_breaks` turns open error breaks into a non-zero exit.
    """

    from pipelines.definitions import defs
    from pipelines.schedules import range_tags

    _progress_to_terminal()
    instance = _instance()
    for name, setting in PROVIDERS.items():
        if not os.environ.get(setting):
            print(f"note: {name} is not configured ({setting} unset); it is skipped")
    print(
        f"recon: loading {first} .. {last} into {data_dir() / 'work' / 'warehouse.duckdb'}, "
        f"published to {data_dir() / 'warehouse.duckdb'} after the checks"
    )
    job = defs.resolve_job_def("recon")
    result = job.execute_in_process(
        instance=instance,
        tags=range_tags(first, last),
        raise_on_error=False,
        # Progress and errors are printed by recon itself (below and via the `recon` logger);
        # Dagster's console would repeat each failed blocking check as an ERROR trace.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    failed = False
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
                continue  # blocking checks with open breaks: reported in the summary
            # Dagster wraps the asset's exception; the innermost cause is what went wrong.
            while error is not None and error.cause is not None:
                error = error.cause
            message = error.message.strip() if error else "unknown error"
            print(f"recon: step {event.step_key} failed: {message}", file=sys.stderr)
            failed = True
    if failed:
        return EXIT_FAILED
    print_row_counts()
    open_errors = print_break_summary()
    if fail_on_breaks and open_errors:
        print(f"recon: {open_errors} open error breaks (--fail-on-breaks)", file=sys.stderr)
        return EXIT_OPEN_BREAKS
    return 0


def open_published() -> duckdb.DuckDBPyConnection:
    import duckdb

    path = data_dir() / "warehouse.duckdb"
    if not path.exists():
        raise ValueError(f"no warehouse at {path}: run `recon run` or `recon demo` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise ValueError(
            f"cannot open {path}: another process opened it for writing (the pipeline never "
            f"does; open it read-only, e.g. `duckdb -readonly`) ({str(exc).splitlines()[0]})"
        ) from None


def print_row_counts() -> None:
    from outputs.tables import render
    from store.duck import sql_text

    with open_published() as con:
        rows = con.execute(sql_text("warehouse_row_counts")).fetchall()
    print(f"\nwarehouse {data_dir() / 'warehouse.duckdb'}")
    print(
        render(["provider", "entity", "rows", "quarantined"], rows, right=("rows", "quarantined"))
    )


def print_break_summary() -> int:
    """The break summary per check and provider; returns the number of open error breaks."""
    from outputs.tables import render
    from store.breaks import open_error_breaks
    from store.duck import sql_text

    with open_published() as con:
        rows = con.execute(sql_text("break_summary")).fetchall()
        open_errors = open_error_breaks(con)
    if not rows:
        print("\nbreaks: none, every check passed")
        return 0
    headers = ["check", "provider", "severity", "open", "pending", "resolved", "open amounts"]
    print("\nbreaks (recon breaks lists them; docs/checks.md explains each check)")
    print(render(headers, rows, right=("open", "pending", "resolved")))
    return open_errors


def _breaks(args: argparse.Namespace) -> int:
    from outputs.tables import render
    from store.breaks import CHECK_NAMES, list_breaks

    if args.check is not None and args.check not in CHECK_NAMES:
        raise ValueError(f"unknown check {args.check!r}; known: {', '.join(CHECK_NAMES)}")
    statuses = [args.status] if args.status else ["open", "pending"]
    with open_published() as con:
        rows = list_breaks(con, statuses, args.check, args.provider)
    if not rows:
        print(f"no {' or '.join(statuses)} breaks")
        return 0
    columns = [
        "break_id", "status", "check_name", "provider", "account_id", "entity_id", "currency",
        "expected", "actual", "difference", "first_seen_at",
    ]  # fmt: skip
    money = ("expected", "actual", "difference")
    print(render(columns, [[r[c] for c in columns] for r in rows], right=money))
    print()
    for r in rows:
        print(f"  {r['break_id']}  {r['detail']}")
        print(f"  {'':16}  source: {r['source_file']}")
    print(f"\n{len(rows)} breaks")
    return 0


def write_report(out: Path | None) -> Path:
    """The HTML report of the published warehouse; by default under $RECON_DATA_DIR/reports/."""
    from outputs.report import write_report as write

    with open_published() as con:
        return write(con, out or data_dir() / "reports" / "recon-report.html")


def _report(args: argparse.Namespace) -> int:
    print(write_report(args.out))
    return 0


def _alerts(args: argparse.Namespace) -> int:
    """Send what is pending now, e.g. after a receiver was down: the same rules as a run's."""
    from assets.resources import AlertResource, WarehouseResource
    from pipelines.alerts import send

    _progress_to_terminal()
    warehouse = WarehouseResource()
    if not warehouse.published_path().exists():
        raise ValueError(f"no warehouse at {warehouse.published_path()}: run `recon run` first")
    outcomes, problems = send(warehouse, AlertResource())
    for problem in problems:
        print(f"recon: alerts not sent to one destination: {problem}", file=sys.stderr)
    for o in outcomes:
        state = "delivered" if o.delivered else f"not delivered, still pending: {o.error}"
        print(
            f"{o.sink}: {o.announced} breaks to tell; {state}"
            if o.announced
            else f"{o.sink}: nothing new"
        )
    return 0 if all(o.delivered for o in outcomes) and not problems else EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise ValueError("--end must be after --start (end is exclusive)")
    return run_days(args.start, args.end - timedelta(days=1), args.fail_on_breaks)


def _demo(args: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    return run_demo(args.seed)


def _sandbox_serve(args: argparse.Namespace) -> int:
    from sandbox.serve import build_and_serve

    build_and_serve(args.seed, args.port, args.config, args.manifest)
    return 0


def _sandbox_manifest(args: argparse.Namespace) -> int:
    from sandbox.build import build_world
    from sandbox.serve import load_config

    text = build_world(load_config(args.seed, args.config)).manifest_json()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon", description="wallet-recon: ledger reconciliation"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load a range of days from the configured providers")
    run.add_argument(
        "--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD"
    )
    run.add_argument("--end", type=date.fromisoformat, required=True, help="day after the last")
    run.add_argument(
        "--fail-on-breaks",
        action="store_true",
        help=f"exit {EXIT_OPEN_BREAKS} when open error breaks exist (for cron)",
    )
    run.set_defaults(func=_run)

    breaks = commands.add_parser("breaks", help="list breaks from the warehouse")
    breaks.add_argument("--status", choices=("open", "pending", "resolved"))
    breaks.add_argument("--check", help="one check_name, e.g. chain_gap")
    breaks.add_argument("--provider", help="one provider, e.g. openapi")
    breaks.set_defaults(func=_breaks)

    report = commands.add_parser("report", help="write the HTML report of the warehouse")
    report.add_argument(
        "--out", type=Path, help="HTML file (default: $RECON_DATA_DIR/reports/recon-report.html)"
    )
    report.set_defaults(func=_report)

    alerts = commands.add_parser(
        "alerts", help="send the break alerts still pending (new or resolved since last told)"
    )
    alerts.set_defaults(func=_alerts)

    demo = commands.add_parser("demo", help="run the pipeline against the embedded sandbox")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_demo)

    sandbox = commands.add_parser("sandbox", help="the embedded provider sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    world_args = argparse.ArgumentParser(add_help=False)
    world_args.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    world_args.add_argument("--config", type=Path, help="world config JSON (default: demo world)")
    serve = sandbox_commands.add_parser(
        "serve", parents=[world_args], help="serve the OPEN-API sandbox on loopback"
    )
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--manifest", type=Path, help="also write the anomaly manifest here")
    serve.set_defaults(func=_sandbox_serve)
    manifest = sandbox_commands.add_parser(
        "manifest", parents=[world_args], help="print the world's ground-truth anomaly manifest"
    )
    manifest.add_argument("--out", type=Path, help="write to this file instead of stdout")
    manifest.set_defaults(func=_sandbox_manifest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        print(f"recon: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
