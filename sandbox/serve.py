"""Serves a sandbox world over real HTTP on loopback with uvicorn."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from sandbox.app import SandboxApp
from sandbox.build import build_world
from sandbox.config import WorldConfig, default_config
from sandbox.world import World

LOOPBACK = "127.0.0.1"


def load_config(seed: int, config_file: Path | None) -> WorldConfig:
    if config_file is None:
        return default_config(seed)
    cfg = WorldConfig.from_file(config_file)
    return cfg if seed == cfg.seed else WorldConfig.from_json({**cfg.to_json(), "seed": seed})


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """uvicorn in a daemon thread, for the demo, end-to-end tests and benchmarks."""

    def __init__(self, app: SandboxApp, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host=LOOPBACK, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://{LOOPBACK}:{self.port}{app.base_path}"

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serving(app: SandboxApp, port: int | None = None) -> Iterator[BackgroundServer]:
    server = BackgroundServer(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve_forever(world: World, port: int, manifest_out: Path | None = None) -> None:
    """Serve until interrupted, after printing the base URL and every customer's credentials."""
    app = SandboxApp(world)
    base = f"http://{LOOPBACK}:{port}{app.base_path}"
    print(f"OPEN-API sandbox (seed {world.cfg.seed}) at {base}", flush=True)
    print(f"clock: {world.now_text}  world: {len(world.customers)} customers", flush=True)
    for cred in world.credentials():
        print(
            f"  customer_id={cred['customer_id']} app_id={cred['app_id']} key={cred['key']}",
            flush=True,
        )
    if manifest_out is not None:
        manifest_out.write_text(world.manifest_json())
        print(f"manifest written to {manifest_out}", flush=True)
    uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning")


def build_and_serve(
    seed: int, port: int, config_file: Path | None, manifest_out: Path | None
) -> None:
    serve_forever(build_world(load_config(seed, config_file)), port, manifest_out)
