"""A demo warehouse for the triage app's tests, and the app served on loopback over it.

The world has breaks of several checks in several currencies, a missing exchange leg inside
the grace period (a pending break), and hostile provider text: every entry's remark and every
card trade's merchant name is a `<script>`, so any page that shows them unescaped fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from outputs.app.auth import AppSettings, hash_password
from outputs.app.web import build_app
from sandbox import WorldConfig, build_world
from sandbox.serve import LOOPBACK, free_port
from store.sql_store import sqlite_url
from tests.support.harness import completed, harness

HOSTILE = "<script>window.pwned=1</script>"
WORLD = WorldConfig(
    seed=23,
    customers=2,
    days=2,
    entries_per_day=40,
    late_entry_rate=0.0,
    anomalies={
        "chain_gap": 2,
        "wallet_balance_mismatch": 2,
        "fx_missing_leg": 2,
        "fx_amount_mismatch": 1,
        "order_debit_mismatch": 1,
        "entry_arithmetic": 1,
    },
)
USERS = {"alice": "correct horse battery staple", "bob": "another long passphrase"}


@dataclass(frozen=True)
class Demo:
    data_dir: Path

    @property
    def published(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def workflow_url(self) -> str:
        return sqlite_url(self.data_dir / "workflow" / "workflow.sqlite")


def build_demo(tmp: Path) -> Demo:
    """One real pipeline run over the hostile world; the snapshot it published."""
    world = build_world(WORLD)
    for customer in world.customers:
        for entry in customer.entries:
            entry.remark = HOSTILE
        for trade in customer.trades:
            trade.merchant_name = HOSTILE
    first = WORLD.start_date
    last = first + timedelta(days=WORLD.days - 1)
    with pytest.MonkeyPatch.context() as mp, harness(world, tmp, mp) as h:
        assert completed(h.run(first, last))
        # The provider corrects one wallet's balance: that break is resolved by the second
        # run, so the warehouse holds a break the queue must leave out.
        wallet = next(w for c in world.customers for w in c.wallets.values() if w.balance_delta)
        wallet.balance_delta = 0
        assert completed(h.run(first, last))
        data_dir = h.data_dir
    return Demo(data_dir)


@dataclass(frozen=True)
class Served:
    base_url: str
    settings: AppSettings

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, follow_redirects=False)


@contextmanager
def serve_app(demo: Demo, tmp: Path, **settings: object) -> Iterator[Served]:
    """The app over `demo`, on a free loopback port, users alice and bob."""
    users_file = tmp / "users"
    users_file.write_text("".join(f"{n}:{hash_password(p)}\n" for n, p in USERS.items()))
    env = {"RECON_UI_USERS_FILE": str(users_file)} | {k: str(v) for k, v in settings.items()}
    config = AppSettings.from_env(demo.published, demo.workflow_url, LOOPBACK, env)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(config), host=LOOPBACK, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the triage app did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://{LOOPBACK}:{port}", config)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
