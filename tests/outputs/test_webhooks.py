"""The webhook receiver over loopback HTTP: what it refuses, what it keeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from outputs.webhooks import MAX_BODY_BYTES, signature
from store.sql_store import sqlite_url
from tests.support.webhooks import Receiver, serve_receiver

KEY = "fedcba9876543210fedcba9876543210"
PAN = "5500000000000004"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with serve_receiver({42: KEY}, sqlite_url(tmp_path / "events.sqlite")) as served:
        yield served


def post(receiver: Receiver, body: bytes, key: str = KEY) -> httpx.Response:
    headers = {"content-type": "application/json", "x-signature": signature(body, key)}
    return httpx.post(receiver.url, content=body, headers=headers, timeout=10)


def test_signed_bodies_that_are_no_event_are_refused_and_kept_nowhere(receiver: Receiver) -> None:
    no_id = json.dumps({"eventTag": "card.status.active", "customer_id": 42}).encode()
    assert post(receiver, no_id).status_code == 400
    not_json = b"{customer_id: 42"
    # Without a customer to pick a key by, the signature cannot verify.
    assert post(receiver, not_json).status_code == 401
    huge = json.dumps({"customer_id": 42, "pad": "x" * MAX_BODY_BYTES}).encode()
    assert post(receiver, huge).status_code == 413
    assert httpx.get(receiver.url, timeout=10).status_code == 405
    signed = json.dumps({"eventTag": "t", "eventId": "e", "customer_id": 42}).encode()
    latin = [(b"x-signature", ("\u00e9" * 64).encode("latin-1"))]
    assert httpx.post(receiver.url, content=signed, headers=latin, timeout=10).status_code == 401
    assert receiver.store.events() == []


def test_a_signed_event_is_kept_scrubbed_and_answered_at_once(receiver: Receiver) -> None:
    data = {"card_id": "c1", "card_no": PAN, "cvv": "987", "pin": "1234", "status": 3}
    doc = {"eventTag": "card.status.freeze", "eventId": 99, "customer_id": "42", "data": data}
    body = json.dumps(doc).encode()
    answer = post(receiver, body)
    assert answer.status_code == 200 and answer.json() == {"status": "kept"}
    assert post(receiver, body).json() == {"status": "already kept"}
    (kept,) = receiver.store.events()
    assert kept.event_id == "99" and kept.customer_id == 42 and kept.sent_at is None
    assert json.loads(kept.payload) == {"card_id": "c1", "card_no_last4": "0004", "status": 3}
