"""Serves a sandbox world over real HTTP on loopback with uvicorn: OPEN-API, JT and Whalet,
one server each."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from sandbox.app import SandboxApp
from sandbox.asgi import AsgiApp
from sandbox.build import build_world
from sandbox.config import FaultConfig, WorldConfig, default_config
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key
from sandbox.webhooks import WebhookControl
from sandbox.whalet_app import WhaletApp
from sandbox.world import World

LOOPBACK = "127.0.0.1"


DEFAULT_SEED = 7


def load_config(seed: int | None, config_file: Path | None) -> WorldConfig:
    """The demo world, or the world a config file describes. A seed given explicitly wins over
    the file's own; without one the file's seed stands (a default would silently replace it)."""
    if config_file is None:
        return default_config(DEFAULT_SEED if seed is None else seed)
    cfg = WorldConfig.from_file(config_file)
    if seed is None or seed == cfg.seed:
        return cfg
    return WorldConfig.from_json({**cfg.to_json(), "seed": seed})


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """uvicorn in a daemon thread, for the demo, end-to-end tests and benchmarks."""

    def __init__(self, app: AsgiApp, port: int | None = None) -> None:
        self.app = app
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
        if self.thread.ident is not None:  # started
            self.thread.join(timeout=10)


@contextlib.contextmanager
def serving(app: AsgiApp, port: int | None = None) -> Iterator[BackgroundServer]:
    server = BackgroundServer(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class ProviderServers:
    """The three providers of one world, each on its own loopback port."""

    openapi: BackgroundServer
    jt: BackgroundServer
    whalet: BackgroundServer
    jt_private_key_pem: bytes  # the merchant's key: JT requests are signed with it


@contextlib.contextmanager
def serving_all(world: World, faults: FaultConfig | None = None) -> Iterator[ProviderServers]:
    """Serve OPEN-API, JT (with a fresh merchant key) and Whalet until the block ends."""
    private_pem, public_pem = generate_merchant_key()
    apps: list[AsgiApp] = [
        SandboxApp(world, faults),
        JtApp(world, public_pem, faults),
        WhaletApp(world, faults),
    ]
    servers: list[BackgroundServer] = []
    try:
        for app in apps:
            servers.append(BackgroundServer(app))
            servers[-1].start()
        openapi, jt, whalet = servers
        yield ProviderServers(openapi, jt, whalet, jt_private_key_pem=private_pem)
    finally:
        for server in servers:
            server.stop()


def _secret_file(directory: Path, name: str, content: bytes) -> Path:
    """Write a secret readable by this user only (created 0600, never world-readable)."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    return path


def serve_forever(
    world: World, port: int, manifest_out: Path | None = None, webhook_url: str | None = None
) -> None:
    """Serve until interrupted: OPEN-API on `port`, JT on `port + 1`, Whalet on `port + 2`.

    Prints each base URL and the credentials a client needs. Keys and secrets that must not
    reach a terminal log (the JT merchant private key, the Whalet secret key) go to files in a
    fresh private directory, removed when serving stops; only their paths are printed.
    """
    app: AsgiApp = SandboxApp(world)
    base = f"http://{LOOPBACK}:{port}{app.base_path}"
    print(f"OPEN-API sandbox (seed {world.cfg.seed}) at {base}", flush=True)
    if webhook_url:
        app = WebhookControl(SandboxApp(world), webhook_url)
        print(
            f"  webhooks to {webhook_url}: POST http://{LOOPBACK}:{port}{WebhookControl.CONTROL}"
            ' {"customer_id", "card_id", "change": "freeze"|"active"|"closed"}',
            flush=True,
        )
    print(f"clock: {world.now_text}  world: {len(world.customers)} customers", flush=True)
    for cred in world.credentials():
        print(
            f"  customer_id={cred['customer_id']} app_id={cred['app_id']} key={cred['key']}",
            flush=True,
        )
    secrets_dir = Path(tempfile.mkdtemp(prefix="sandbox-secrets-"))
    private_pem, public_pem = generate_merchant_key()
    key_file = _secret_file(secrets_dir, "jt_merchant_private_key.pem", private_pem)
    (secrets_dir / "jt_merchant_public_key.pem").write_bytes(public_pem)
    whalet = world.whalet.credentials()
    secret_file = _secret_file(secrets_dir, "whalet_secret_key", whalet["secret_key"].encode())
    jt_server = BackgroundServer(JtApp(world, public_pem), port + 1)
    whalet_server = BackgroundServer(WhaletApp(world), port + 2)
    print(f"JT wallet sandbox at {jt_server.base_url}", flush=True)
    print(f"  appId={world.jt.app_id} users={len(world.jt.users)}", flush=True)
    print(f"  merchant private key (PKCS#8 PEM): {key_file}", flush=True)
    print(f"Whalet sandbox at {whalet_server.base_url}", flush=True)
    print(
        f"  partnerId={whalet['partner_id']} clientId={whalet['client_id']} "
        f"userIds={','.join(whalet['user_ids'])}",
        flush=True,
    )
    print(f"  secretKey in: {secret_file}", flush=True)
    if manifest_out is not None:
        manifest_out.write_text(world.manifest_json())
        print(f"manifest written to {manifest_out}", flush=True)
    if threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the SIGTERM it caught once it has shut down; as SystemExit (not
        # the default handler's abrupt death) it lets the secrets directory be removed below.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        jt_server.start()
        whalet_server.start()
        uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning")
    finally:
        jt_server.stop()
        whalet_server.stop()
        shutil.rmtree(secrets_dir, ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def build_and_serve(
    seed: int | None,
    port: int,
    config_file: Path | None,
    manifest_out: Path | None,
    webhook_url: str | None = None,
) -> None:
    serve_forever(build_world(load_config(seed, config_file)), port, manifest_out, webhook_url)
