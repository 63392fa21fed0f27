"""Webhooks as hints, over loopback HTTP: the sandbox signs and posts, the receiver keeps each
event once, the sensor asks for a re-pull of the event's day windows and snapshot, and only
the pulled data changes the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.resources import WarehouseResource
from pipelines.definitions import assets, defs, ingest_job
from pipelines.resources import Resources
from pipelines.schedules import RANGE_END_TAG, RANGE_START_TAG
from pipelines.sensors import WEBHOOK_SNAPSHOTS_TAG, WEBHOOK_TAG
from sandbox import WorldConfig, build_world
from sandbox.model import Card, money
from sandbox.webhooks import WebhookSender, sign
from sandbox.world import World
from tests.support.harness import completed, harness
from tests.support.webhooks import Receiver, serve_receiver

WORLD = WorldConfig(seed=31, customers=2, days=2, entries_per_day=20)
FIRST = WORLD.start_date
LAST = FIRST + timedelta(days=WORLD.days - 1)
SENSOR = "recon_webhook_repulls"


def active_card(world: World) -> tuple[int, Card]:
    c = world.customers[0]
    card = next(k for k in world.cards(c) if k.status_at_time(world.now) == 2)
    return c.customer_id, card


def keys(world: World) -> dict[int, str]:
    return {int(c["customer_id"]): str(c["key"]) for c in world.credentials()}


def evaluate(instance: dg.DagsterInstance, resources: dict[str, Any]) -> Any:
    """The webhook sensor's tick, as the daemon would run it."""
    context = dg.build_sensor_context(instance=instance, resources=resources, definitions=defs)
    return defs.get_repository_def().get_sensor_def(SENSOR)(context)


@pytest.fixture
def receiving(tmp_path: Path) -> Iterator[tuple[World, Receiver, dict[str, Any]]]:
    world = build_world(WORLD)
    warehouse = WarehouseResource(data_dir=str(tmp_path / "data"))
    # The sensor reads no provider: a base URL only says OPEN-API is configured.
    config = {
        "openapi": {"base_url": "http://127.0.0.1:9/v1"},
        "warehouse": {"data_dir": str(tmp_path / "data")},
    }
    resources = Resources.build(config).by_key()
    with serve_receiver(keys(world), warehouse.webhook_url()) as receiver:
        yield world, receiver, resources


def test_a_card_status_webhook_asks_for_one_cards_repull_and_forged_or_replayed_ones_ask_nothing(
    receiving: tuple[World, Receiver, dict[str, Any]],
) -> None:
    world, receiver, resources = receiving
    sender = WebhookSender(world, receiver.url)
    customer, card = active_card(world)
    other = world.customers[1]
    with dg.instance_for_test() as instance:
        # Forged: signed with a key that is not the customer's, or with another customer's.
        body = sender.event(world.customers[0], "card.status.freeze", {"card_id": card.card_id})
        assert sender.post(body, sign(body, "0" * 32)).status == 401
        assert sender.post(body, sign(body, other.key)).status == 401
        assert sender.post(body, "").status == 401
        assert receiver.store.events() == []
        assert isinstance(evaluate(instance, resources), dg.SkipReason)

        delivered = sender.card_status(customer, card.card_id, "freeze")
        assert delivered.status == 200
        assert card.status_at_time(world.now) == 3
        (kept,) = receiver.store.events()
        assert kept.customer_id == customer and kept.event_tag == "card.status.freeze"
        # Card secrets never reach the store: no PAN, no CVV, no PIN, only the last four.
        # (The sandbox masks the middle digits as the provider does; the masked card_no must
        # not be kept either.)
        assert card.card_no not in kept.payload and card.card_no[6:-4] not in kept.payload
        assert '"card_no"' not in kept.payload
        assert '"cvv"' not in kept.payload and '"pin"' not in kept.payload
        assert f'"card_no_last4": "{card.card_no[-4:]}"' in kept.payload
        # A redelivery before the sensor ran adds nothing.
        assert sender.post(delivered.body, delivered.signature).status == 200
        assert len(receiver.store.events()) == 1

        result = evaluate(instance, resources)
        (request,) = result.run_requests
        day = world.now_text[:10]
        assert request.tags[RANGE_START_TAG] == request.tags[RANGE_END_TAG] == day
        assert request.tags[WEBHOOK_TAG] == str(customer)
        assert request.tags[WEBHOOK_SNAPSHOTS_TAG] == "cards"
        landing = {k.to_user_string() for k in request.asset_selection} & LANDING
        assert landing == {
            "lake_openapi__transactions",
            "lake_openapi__card_trades",
            "lake_openapi__orders",
            "lake_openapi__cards",
        }
        assert dg.AssetKey("fct_breaks") in request.asset_selection
        assert receiver.store.processed() == {kept.event_id: request.run_key}

        # Answered once: the next tick, and a replay after it, ask for nothing.
        assert isinstance(evaluate(instance, resources), dg.SkipReason)
        assert sender.post(delivered.body, delivered.signature).status == 200
        assert isinstance(evaluate(instance, resources), dg.SkipReason)
        assert len(receiver.store.events()) == 1


def test_many_events_become_few_runs(receiving: tuple[World, Receiver, dict[str, Any]]) -> None:
    world, receiver, resources = receiving
    sender = WebhookSender(world, receiver.url)
    a, b = world.customers
    day = date.fromisoformat(world.now_text[:10])
    early = (day - timedelta(days=20)).isoformat()
    for c in (a, b, a):
        assert sender.send(c, "card.trade.created", {"trade_time": f"{day} 08:00:00"}).status == 200
    wallet = {"transaction_time": f"{early} 09:30:00", "amount": money(1250)}
    assert sender.send(b, "wallet.transaction.created", wallet).status == 200
    with dg.instance_for_test() as instance:
        requests = evaluate(instance, resources).run_requests
    ranges = {
        (r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG], r.tags[WEBHOOK_SNAPSHOTS_TAG])
        for r in requests
    }
    # The wallet event's own day is 20 days back; the day it was sent is today's run.
    assert ranges == {(early, early, "wallets"), (str(day), str(day), "cards,wallets")}
    assert len(receiver.store.processed()) == 4


LANDING = {
    f"lake_{p}__{e}"
    for p, entities in {
        "openapi": ("transactions", "card_trades", "orders", "wallets", "cards", "exchange_rates"),
        "jt": ("balance_records", "users"),
        "whalet": ("balances", "platform_balances"),
    }.items()
    for e in entities
}


@pytest.mark.slow
def test_a_card_freeze_webhook_triggers_a_run_that_repulls_the_customers_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    customer, card = active_card(world)
    latest = (
        "select status from raw_openapi__cards where customer_id = ? and card_id = ? "
        "and _snapshot_at = (select max(_snapshot_at) from raw_openapi__cards)"
    )
    snapshots = "select count(distinct _snapshot_at) from raw_openapi__{}"
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run(FIRST, LAST))
        assert h.query(latest, [customer, card.card_id]) == [(2,)]
        wallet_snapshots = h.query(snapshots.format("wallets"))
        before = h.tables()
        warehouse = WarehouseResource(data_dir=str(h.data_dir))
        with serve_receiver(keys(world), warehouse.webhook_url()) as receiver:
            sender = WebhookSender(world, receiver.url)
            assert sender.card_status(customer, card.card_id, "freeze").status == 200
            # The webhook alone changes nothing in the warehouse.
            assert h.tables() == before
            (request,) = evaluate(h.instance, h.resources()).run_requests
        job = dg.Definitions(
            assets=assets, jobs=[ingest_job], resources=h.resources()
        ).resolve_job_def("recon")
        result = job.execute_in_process(
            instance=h.instance,
            tags=request.tags,
            asset_selection=list(request.asset_selection),
            raise_on_error=False,
        )
        assert completed(result)
        assert result.dagster_run.tags[WEBHOOK_TAG] == str(customer)
        assert h.query(latest, [customer, card.card_id]) == [(3,)]
        # Only the snapshot the event named was pulled again.
        assert h.query(snapshots.format("wallets")) == wallet_snapshots


def test_the_receiver_takes_the_pipelines_customers_and_store_and_shows_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.cli import build_parser, receiver_settings

    key = "ab" * 16
    monkeypatch.setenv("OPENAPI_CUSTOMERS", f"101:1:{key},102:2:{'cd' * 16}")
    monkeypatch.setenv("RECON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RECON_WEBHOOK_STORE_URL", raising=False)
    settings = receiver_settings()
    assert dict(settings.keys) == {101: key, 102: "cd" * 16}
    assert settings.store.where == f"sqlite:///{tmp_path / 'data' / 'webhooks' / 'events.sqlite'}"
    assert key not in repr(settings)
    args = build_parser().parse_args(["webhooks", "serve", "--port", "9999"])
    assert (args.port, args.host, args.func.__name__) == (9999, "127.0.0.1", "_webhooks_serve")
