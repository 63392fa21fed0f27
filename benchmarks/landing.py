"""`make bench`: landing the ledger against a bare concurrent httpx loop over the same pages.

A sandbox world (10 customers x 14 days, ~485k ledger entries) is served over loopback by
uvicorn in a process of its own, as a provider would be: a server in this process would
share the interpreter lock with the client being measured. Then, in the same run:

- the **bare loop**: 4 threads, httpx, every page of every (customer, day) window of
  `transactionList`, each answer parsed with `json.loads(parse_float=Decimal)`, nothing
  converted or written. The least landing can cost over this wire;
- **landing**: the pipeline's ledger landing for the same windows (`store.landing.openapi`,
  through the client `OpenApiResource` builds), with 4 requests in flight and no
  requests-per-second cap, as the bare loop; every window converted, checked and written as
  its Parquet file.

Printed: both wall times and their ratio (the target is at most 1.5). The server is warmed
with one read of every window first, so neither side pays for the sandbox's first touches.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from assets.resources import OpenApiResource
from sandbox import SandboxApp, WorldConfig, build_world
from sandbox.serve import LOOPBACK, free_port
from store.lake import Lake
from store.landing.openapi import land_windows

WORLD = WorldConfig(seed=1, customers=10, days=14, entries_per_day=3400)
PAGE_SIZE = 500
THREADS = 4
PATH = "openApi/wallet/transactionList"


def _serve(cfg: WorldConfig, port: int, send: multiprocessing.connection.Connection) -> None:
    """The server process: build the world, report its credentials, serve until killed."""
    import uvicorn

    world = build_world(cfg)
    send.send(
        {
            "credentials": world.credentials(),
            "entries": sum(len(c.entries) for c in world.customers),
        }
    )
    send.close()
    uvicorn.run(SandboxApp(world), host=LOOPBACK, port=port, log_level="warning")


def _days(cfg: WorldConfig) -> list[date]:
    return [cfg.start_date + timedelta(days=i) for i in range(cfg.days)]


def bare_loop(base_url: str, credentials: list[dict[str, Any]], days: list[date]) -> int:
    """Every page of every (customer, day) window, `THREADS` windows at a time; rows read."""
    client = httpx.Client(base_url=base_url + "/", timeout=60)

    def window(job: tuple[dict[str, Any], date]) -> int:
        cred, day = job
        start = datetime(day.year, day.month, day.day)
        end = start + timedelta(days=1)
        rows, page_no = 0, 1
        while True:
            body = {
                **cred,
                "page_no": page_no,
                "page_size": PAGE_SIZE,
                "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
            }
            answer = client.post(PATH, json=body)
            data = json.loads(answer.text, parse_float=Decimal)["data"]
            page = data["transaction_list"]
            rows += len(page)
            if len(page) < PAGE_SIZE or rows >= data["total"]:
                return rows
            page_no += 1

    jobs = [(cred, day) for day in days for cred in credentials]
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            return sum(pool.map(window, jobs))
    finally:
        client.close()


def landing(base_url: str, credentials: list[dict[str, Any]], days: list[date], out: Path) -> int:
    """The pipeline's ledger landing of these days, as the asset runs it; rows landed."""
    customers = out / "customers"
    customers.write_text(
        "\n".join(f"{c['customer_id']}:{c['app_id']}:{c['key']}" for c in credentials)
    )
    resource = OpenApiResource(
        base_url=base_url,
        customers_file=str(customers),
        page_size=PAGE_SIZE,
        max_in_flight=THREADS,
        requests_per_second=0,
    )
    with resource.client() as client:
        landed = land_windows(
            client, resource.credentials(), "transactions", days, Lake.local(out / "data"), _now()
        )
    return landed.rows


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _timed(what: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = what()
    return time.perf_counter() - started, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=WORLD.days)
    parser.add_argument("--customers", type=int, default=WORLD.customers)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    cfg = WorldConfig(
        seed=WORLD.seed,
        customers=args.customers,
        days=args.days,
        entries_per_day=WORLD.entries_per_day,
    )
    port = free_port()
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    server = context.Process(target=_serve, args=(cfg, port, send), daemon=True)
    server.start()
    out = Path(tempfile.mkdtemp(prefix="bench-landing-"))
    try:
        info = receive.recv()
        base_url = f"http://{LOOPBACK}:{port}/v1"
        _wait_for(base_url)
        credentials, days = info["credentials"], _days(cfg)
        print(
            f"sandbox: {len(credentials)} customers x {len(days)} days, "
            f"{info['entries']:,} ledger entries, served by uvicorn in its own process"
        )
        bare_loop(base_url, credentials, days)  # warm the server
        for _ in range(args.rounds):
            bare_s, bare_rows = _timed(lambda: bare_loop(base_url, credentials, days))
            land_s, land_rows = _timed(lambda: landing(base_url, credentials, days, out))
            print(f"  bare {THREADS}-thread httpx loop: {bare_rows:,} rows in {bare_s:.1f}s")
            print(f"  ledger landing:                  {land_rows:,} rows in {land_s:.1f}s")
            # A landing that lost or invented rows would be measuring something else.
            assert land_rows == bare_rows == info["entries"], (land_rows, bare_rows)
            print(f"  landing / bare loop: {land_s / bare_s:.2f}x (target <= 1.5x)")
        cores = len(os.sched_getaffinity(0))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {platform.machine()}, {cores} cores, load average {load}")
    finally:
        server.kill()
        server.join()
        shutil.rmtree(out, ignore_errors=True)
    return 0


def _wait_for(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.post(base_url + "/openApi/wallet/walletList", json={}, timeout=5)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
