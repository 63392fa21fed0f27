"""The `recon` command: a thin shell over the Dagster definitions and the sandbox."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import exit_codes

if TYPE_CHECKING:
    from outputs.webhooks import ReceiverSettings


def _breaks(args: argparse.Namespace) -> int:
    from assets.resources import WarehouseResource
    from outputs.tables import render
    from pipelines.runs import open_published
    from store.breaks import CHECK_NAMES, list_breaks
    from store.datasets import PROVIDERS

    if args.check is not None and args.check not in CHECK_NAMES:
        raise ValueError(f"unknown check {args.check!r}; known: {', '.join(CHECK_NAMES)}")
    if args.provider is not None and args.provider not in PROVIDERS:
        raise ValueError(f"unknown provider {args.provider!r}; known: {', '.join(PROVIDERS)}")
    statuses = [args.status] if args.status else ["open", "pending"]
    with open_published(WarehouseResource()) as con:
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


def _report(args: argparse.Namespace) -> int:
    from assets.resources import WarehouseResource
    from pipelines.runs import write_report

    print(write_report(WarehouseResource(), args.out))
    return 0


def _sql(args: argparse.Namespace) -> int:
    from assets.resources import WarehouseResource
    from outputs.sql_shell import run_once, shell
    from pipelines.runs import open_published

    warehouse = WarehouseResource()
    with open_published(warehouse) as con:  # read-only: the snapshot refuses every write
        if args.query is None:
            return shell(con, warehouse.published_path())
        run_once(con, args.query)
    return 0


def _alerts(args: argparse.Namespace) -> int:
    """Send what is pending now, e.g. after a receiver was down: the same rules as a run's."""
    from assets.resources import AlertResource, WarehouseResource
    from pipelines.alerts import send
    from pipelines.runs import progress_to_terminal

    progress_to_terminal()
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
    return 0 if all(o.delivered for o in outcomes) and not problems else exit_codes.FAILED


def _ui(args: argparse.Namespace) -> int:
    import uvicorn

    from assets.resources import WarehouseResource
    from outputs.app.auth import AppSettings
    from outputs.app.web import build_app

    warehouse = WarehouseResource()
    settings = AppSettings.from_env(warehouse.published_path(), warehouse.workflow_url(), args.host)
    if not warehouse.published_path().exists():
        raise ValueError(
            f"no warehouse at {warehouse.published_path()}: run `recon run` or `recon demo` first"
        )
    print(f"recon ui: http://{args.host}:{args.port}/ over {warehouse.published_path()}")
    uvicorn.run(build_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0


def receiver_settings() -> ReceiverSettings:
    """The receiver's settings: the OPEN-API customers' keys as the pipeline reads them, and
    the webhook store the sensor reads."""
    from assets.resources import OpenApiResource, WarehouseResource
    from outputs.webhooks import ReceiverSettings
    from store.webhook_store import WebhookStore

    keys = {c.customer_id: c.key for c in OpenApiResource().credentials()}
    return ReceiverSettings(keys, WebhookStore(WarehouseResource().webhook_url()))


def _webhooks_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from outputs.webhooks import PATH, build_receiver

    settings = receiver_settings()
    app = build_receiver(settings)
    # One line per event kept or refused (never a body): the receiver's own log.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("recon.webhooks")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    log.propagate = False
    print(
        f"recon webhooks: POST http://{args.host}:{args.port}{PATH} for OPEN-API customers "
        f"{', '.join(str(c) for c in sorted(settings.keys))}, kept in {settings.store.where}"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _ui_passwd(args: argparse.Namespace) -> int:
    import getpass

    from outputs.app.auth import hash_password

    password = getpass.getpass(f"password for {args.name}: ")
    if len(password) < 12:
        raise ValueError("use a password of at least 12 characters")
    if password != getpass.getpass("again: "):
        raise ValueError("the two passwords differ")
    print(f"{args.name}:{hash_password(password)}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise ValueError("--end must be after --start (end is exclusive)")
    from pipelines.runs import run_days

    # --full is a setting of this run only: it goes with the run's config, not the environment.
    config = {"recon": {"full_recheck": True}} if args.full else None
    return run_days(
        args.start, args.end - timedelta(days=1), config, fail_on_breaks=args.fail_on_breaks
    )


def _demo(args: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    return run_demo(args.seed)


def _sandbox_serve(args: argparse.Namespace) -> int:
    from sandbox.serve import build_and_serve

    build_and_serve(args.seed, args.port, args.config, args.manifest, args.webhook_url)
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
        help=f"exit {exit_codes.OPEN_BREAKS} when open error breaks exist (for cron)",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="re-check all history instead of what this run's loads changed (the reference "
        "the nightly runs must equal; the nightly schedule does it weekly)",
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

    sql = commands.add_parser(
        "sql", help="SQL on the published warehouse, read-only: a shell, or one query with -c"
    )
    sql.add_argument("-c", dest="query", metavar="SQL", help="run these statements and exit")
    sql.set_defaults(func=_sql)

    alerts = commands.add_parser(
        "alerts", help="send the break alerts still pending (new or resolved since last told)"
    )
    alerts.set_defaults(func=_alerts)

    ui = commands.add_parser(
        "ui", help="the triage app over the published warehouse (queue, actions, exports)"
    )
    ui.add_argument("--port", type=int, default=8780)
    ui.add_argument(
        "--host", default="127.0.0.1", help="listen address (reads need sign-in off loopback)"
    )
    ui.set_defaults(func=_ui)
    passwd = commands.add_parser(
        "ui-passwd", help="print a `name:hash` line for RECON_UI_USERS_FILE (asks the password)"
    )
    passwd.add_argument("name")
    passwd.set_defaults(func=_ui_passwd)

    webhooks = commands.add_parser(
        "webhooks", help="the receiver of the providers' webhooks (hints to re-pull)"
    )
    webhooks_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    webhooks_serve = webhooks_commands.add_parser(
        "serve", help="receive OPEN-API notifications, check their signature, keep each once"
    )
    webhooks_serve.add_argument("--port", type=int, default=8781)
    webhooks_serve.add_argument(
        "--host", default="127.0.0.1", help="listen address (put TLS in front off loopback)"
    )
    webhooks_serve.set_defaults(func=_webhooks_serve)

    demo = commands.add_parser("demo", help="run the pipeline against the embedded sandbox")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_demo)

    sandbox = commands.add_parser("sandbox", help="the embedded provider sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    world_args = argparse.ArgumentParser(add_help=False)
    # No default here: a --config file's own seed stands unless --seed is given (load_config).
    world_args.add_argument(
        "--seed", type=int, help="world seed (default: the --config file's, else 7)"
    )
    world_args.add_argument("--config", type=Path, help="world config JSON (default: demo world)")
    serve = sandbox_commands.add_parser(
        "serve", parents=[world_args], help="serve the OPEN-API sandbox on loopback"
    )
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--manifest", type=Path, help="also write the anomaly manifest here")
    serve.add_argument(
        "--webhook-url",
        help="send OPEN-API webhooks to this receiver URL (a control route changes a card "
        "and sends its card.status event; docs/sandbox.md#webhooks)",
    )
    serve.set_defaults(func=_sandbox_serve)
    manifest = sandbox_commands.add_parser(
        "manifest", parents=[world_args], help="print the world's ground-truth anomaly manifest"
    )
    manifest.add_argument("--out", type=Path, help="write to this file instead of stdout")
    manifest.set_defaults(func=_sandbox_manifest)
    return parser


def read_dotenv(path: Path = Path(".env")) -> None:
    """Settings from ./.env for what the environment does not set already (the environment
    wins), as `dagster dev` does; .env.example lists them."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    read_dotenv()
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try: a closed pipe is met here, not at exit
        return code
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
    except BrokenPipeError:
        # `recon breaks | head`: the reader has what it wanted. Python would complain again
        # when it flushes stdout at exit, so stdout goes nowhere from here on.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_codes.OK
    except ValueError as exc:
        print(f"recon: error: {exc}", file=sys.stderr)
        return exit_codes.USAGE


if __name__ == "__main__":
    raise SystemExit(main())
