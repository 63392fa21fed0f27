"""The `recon` command: a thin shell over the project's entry points."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


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

    sandbox = commands.add_parser("sandbox", help="the embedded provider sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    world_args = argparse.ArgumentParser(add_help=False)
    world_args.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    world_args.add_argument(
        "--config", type=Path, help="world config JSON (default: the demo world)"
    )
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
