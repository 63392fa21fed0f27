"""Webhook events: what is kept of one, and which re-pulls a batch asks for (worked
examples), and the store that keeps each once (real SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store.sql_store import sqlite_url
from store.webhook_events import Event, event_days, parse_event, plan_repulls
from store.webhook_store import WebhookStore, WebhookStoreError
from tests.support.postgres import postgres_server

KEY = "0123456789abcdef0123456789abcdef"
PAN = "4111111111111111"
UTC_ZONE = ZoneInfo("UTC")


def body(event_id: str = "evt-1", tag: str = "card.status.freeze", **data: object) -> bytes:
    sent = int(datetime(2026, 11, 10, 23, 30, tzinfo=UTC).timestamp() * 1000)
    doc = {"eventTag": tag, "eventId": event_id, "timestamp": sent, "customer_id": 7, "data": data}
    return json.dumps(doc).encode()


def event(event_id: str, tag: str, *times: str, sent: datetime | None = None) -> Event:
    data = {"trade_time": times[0]} if times else {}
    return Event(event_id, 7, tag, sent, json.dumps(data))


def test_card_secrets_and_the_key_never_reach_what_is_kept() -> None:
    raw = body(
        card_no=PAN, cvv="123", pin="4321", remark=f"card {PAN} key {KEY}", balance=1
    ).replace(b'"balance": 1', b'"balance": 10020.10')
    kept = parse_event(raw, KEY)
    data = json.loads(kept.payload)
    assert PAN not in kept.payload and KEY not in kept.payload
    assert "cvv" not in data and "pin" not in data
    assert data["card_no_last4"] == "1111"
    assert data["remark"] == "card [card ****1111] key [redacted]"
    # Money stays exact: the text the provider sent, never a float's.
    assert data["balance"] == "10020.10"
    assert (kept.event_id, kept.customer_id, kept.event_tag) == ("evt-1", 7, "card.status.freeze")


def test_an_event_concerns_the_day_it_was_sent_on_the_providers_clock_and_its_own_times() -> None:
    kept = parse_event(body(trade_time="2026-11-08 12:00:00"), KEY)
    # 23:30 UTC is already the 11th in Shanghai.
    assert event_days(kept, ZoneInfo("Asia/Shanghai")) == {date(2026, 11, 11), date(2026, 11, 8)}
    assert event_days(kept, UTC_ZONE) == {date(2026, 11, 10), date(2026, 11, 8)}


def test_days_close_together_share_a_run_and_far_ones_get_their_own() -> None:
    today, earliest = date(2026, 11, 20), date(2024, 1, 1)
    events = [
        event("a", "card.status.freeze", "2026-11-10 10:00:00"),
        event("b", "order.success", "2026-11-13 10:00:00"),  # 3 days on: same run
        event("c", "wallet.transaction.created", "2026-11-17 10:00:00"),  # 4 days on: its own
        event("d", "card.trade.created", "2030-01-01 00:00:00"),  # no partition yet: today
    ]
    plans = plan_repulls(events, UTC_ZONE, today, earliest)
    got = [(p.first, p.last, p.snapshots, p.event_ids) for p in plans]
    assert got == [
        (date(2026, 11, 10), date(2026, 11, 13), ("cards",), ("a", "b")),
        (date(2026, 11, 17), date(2026, 11, 20), ("cards", "wallets"), ("c", "d")),
    ]
    # The same events ask for the same run, in whatever order they come.
    again = plan_repulls(list(reversed(events)), UTC_ZONE, today, earliest)
    assert [p.run_key() for p in again] == [p.run_key() for p in plans]
    assert len({p.run_key() for p in plans}) == 2


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)],
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "webhooks" / "events.sqlite")
        return
    with postgres_server() as pg:
        yield f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/{pg.database}"


def test_the_store_keeps_an_event_once_and_answers_it_once(url: str) -> None:
    store = WebhookStore(url)
    assert store.pending() == []  # nothing kept yet: no store, no error
    store.create()
    first = parse_event(body(), KEY)
    assert store.add(first)
    # A redelivery with another body changes nothing.
    assert not store.add(parse_event(body(card_no="5500000000000004"), KEY))
    assert store.events() == [first]
    assert store.pending() == [first]
    store.mark_processed([first.event_id], "webhooks-1")
    store.mark_processed([first.event_id], "webhooks-2")
    assert store.pending() == []
    assert store.processed() == {"evt-1": "webhooks-1"}
    store.close()


def test_an_unreachable_store_is_named_without_its_password() -> None:
    store = WebhookStore("postgresql://recon:s3cret-pw@127.0.0.1:9/nothing")
    with pytest.raises(WebhookStoreError) as caught:
        store.pending()
    assert "s3cret-pw" not in str(caught.value) and "127.0.0.1" in str(caught.value)
    with pytest.raises(WebhookStoreError, match="RECON_WEBHOOK_STORE_URL"):
        WebhookStore("mysql://x@y/z")
