"""The webhook receiver served on loopback over a real SQLite store, for receiver and sensor
tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from outputs.webhooks import PATH, ReceiverSettings, build_receiver
from sandbox.serve import LOOPBACK, free_port
from store.webhook_store import WebhookStore


@dataclass(frozen=True)
class Receiver:
    url: str  # the full URL the provider posts to
    store: WebhookStore


@contextmanager
def serve_receiver(keys: Mapping[int, str], store_url: str) -> Iterator[Receiver]:
    store = WebhookStore(store_url)
    port = free_port()
    app = build_receiver(ReceiverSettings(dict(keys), store))
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.02)
    try:
        yield Receiver(f"http://{LOOPBACK}:{port}{PATH}", store)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()
