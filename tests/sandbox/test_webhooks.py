"""The sandbox's webhooks over loopback HTTP: the control route of `recon sandbox serve
--webhook-url` changes a card, and the receiver gets the signed card.status event."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from sandbox import SandboxApp, build_world
from sandbox.serve import serving
from sandbox.webhooks import WebhookControl
from store.sql_store import sqlite_url
from tests.support.webhooks import serve_receiver
from tests.support.worlds import SMALL


def test_the_control_route_changes_a_card_and_sends_its_signed_status_event(
    tmp_path: Path,
) -> None:
    world = build_world(SMALL)
    c = world.customers[0]
    card = next(k for k in world.cards(c) if k.status_at_time(world.now) == 2)
    keys = {int(x["customer_id"]): str(x["key"]) for x in world.credentials()}
    with (
        serve_receiver(keys, sqlite_url(tmp_path / "events.sqlite")) as receiver,
        serving(WebhookControl(SandboxApp(world), receiver.url)) as server,
    ):
        control = server.base_url.removesuffix("/v1") + WebhookControl.CONTROL
        asked = {"customer_id": c.customer_id, "card_id": card.card_id, "change": "freeze"}
        answer = httpx.post(control, json=asked, timeout=10)
        assert answer.status_code == 200 and answer.json()["receiver_status"] == 200
        (kept,) = receiver.store.events()
        assert kept.event_id == answer.json()["event_id"]
        assert (kept.customer_id, kept.event_tag) == (c.customer_id, "card.status.freeze")
        assert json.loads(kept.payload)["status"] == 3
        # The provider's API shows the change from now on.
        auth = {"customer_id": c.customer_id, "app_id": c.app_id, "key": c.key}
        detail = httpx.post(
            f"{server.base_url}/openApi/card/cardDetail",
            json=auth | {"card_id": card.card_id},
            timeout=10,
        ).json()
        assert detail["data"]["status"] == 3
        bad = httpx.post(control, json=asked | {"change": "melt"}, timeout=10)
        unknown = httpx.post(control, json=asked | {"card_id": "nope"}, timeout=10)
        assert (bad.status_code, unknown.status_code) == (400, 404)
        assert len(receiver.store.events()) == 1
