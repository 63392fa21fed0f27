"""OPEN-API webhooks from the sandbox (providers.md §5): a change to the world, and the
notification the provider would send about it, POSTed to a receiver URL.

The body is `{"eventTag", "eventId", "timestamp", "customer_id", "data"}`, signed in the
`X-Signature` header with the hex HMAC-SHA256 of the raw body and the customer's key. Card
payloads carry the card with its secrets masked (`card_no` as BIN and last four, `cvv` and
`pin` as stars). The sandbox shares no code with the pipeline, so it signs and posts on its
own (urllib: no third-party HTTP client here).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from sandbox.app import SandboxApp
from sandbox.asgi import AsgiApp, Response, Scope, json_response
from sandbox.model import Customer, parse_time
from sandbox.render import card_row, dumps
from sandbox.world import World

CARD_STATUS = {"active": 2, "freeze": 3, "closed": 5}


@dataclass(frozen=True)
class Delivery:
    """One POST: the exact body and signature sent, and what the receiver answered."""

    body: bytes
    signature: str
    status: int


def sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def masked_card(row: dict[str, Any]) -> dict[str, Any]:
    pan = str(row["card_no"])
    return row | {"card_no": pan[:6] + "*" * (len(pan) - 10) + pan[-4:], "cvv": "***", "pin": "***"}


class WebhookSender:
    """Sends the world's notifications to `url` (the receiver's full URL)."""

    def __init__(self, world: World, url: str, timeout: float = 10.0) -> None:
        self.world = world
        self.url = url
        self.timeout = timeout
        self._sent = 0

    def customer(self, customer_id: int) -> Customer:
        found = [c for c in self.world.customers if c.customer_id == customer_id]
        if not found:
            raise KeyError(f"no customer {customer_id} in this world")
        return found[0]

    def card_status(self, customer_id: int, card_id: str, change: str) -> Delivery:
        """Change a card's status at the world's `now` (`active`, `freeze` or `closed`) and
        send `card.status.<change>` with the card as cardList would now show it."""
        c = self.customer(customer_id)
        card = self.world.card(c, card_id)
        if card is None:
            raise KeyError(f"no card {card_id} of customer {customer_id}")
        if change == "closed":
            card.close_at = card.close_at if card.close_at is not None else self.world.now
            card.end_at = self.world.now
        else:
            card.status_changes.append((self.world.now, CARD_STATUS[change]))
        row = card_row(card, *self.world.card_state(card), self.world.now)
        return self.send(c, f"card.status.{change}", masked_card(row))

    def event(self, c: Customer, tag: str, data: dict[str, Any]) -> bytes:
        """A body for this notification, with a fresh eventId."""
        self._sent += 1
        # The provider's clock is naive; the body's timestamp is epoch milliseconds.
        sent_ms = parse_time(self.world.now_text) * 1000
        doc = {
            "eventTag": tag,
            "eventId": f"evt_{self.world.cfg.seed}_{c.customer_id}_{self.world.now}_{self._sent}",
            "timestamp": sent_ms,
            "customer_id": c.customer_id,
            "data": data,
        }
        return dumps(doc).encode()

    def send(self, c: Customer, tag: str, data: dict[str, Any]) -> Delivery:
        body = self.event(c, tag, data)
        return self.post(body, sign(body, c.key))

    def post(self, body: bytes, signature: str) -> Delivery:
        """POST exactly this body with this signature (a redelivery sends the same again)."""
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"content-type": "application/json", "x-signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        return Delivery(body, signature, status)


class WebhookControl(AsgiApp):
    """The OPEN-API sandbox with a control route that makes the world send webhooks:
    `POST /sandbox/webhooks/card_status` with `{"customer_id", "card_id", "change"}` changes
    the card and sends `card.status.<change>` to the receiver URL. Every other request goes
    to the OPEN-API app unchanged (`recon sandbox serve --webhook-url URL`)."""

    CONTROL = "/sandbox/webhooks/card_status"

    def __init__(self, app: SandboxApp, url: str) -> None:
        self.app = app
        self.base_path = app.base_path
        self.sender = WebhookSender(app.world, url)

    async def respond(self, scope: Scope, body: bytes) -> Response:
        if scope["path"] != self.CONTROL:
            return await self.app.respond(scope, body)
        if scope["method"] != "POST":
            return json_response(405, {"error": "POST only"})
        try:
            params = json.loads(body or b"{}")
            customer_id, card_id = int(params["customer_id"]), str(params["card_id"])
            change = str(params["change"])
            if change not in CARD_STATUS:
                raise ValueError(f"change must be one of {', '.join(CARD_STATUS)}")
        except (ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"error": f"bad request: {exc}"})
        try:
            # urllib blocks: off the event loop, so the receiver may call this sandbox back.
            sent = await asyncio.to_thread(self.sender.card_status, customer_id, card_id, change)
        except KeyError as exc:
            return json_response(404, {"error": str(exc.args[0])})
        except OSError as exc:
            return json_response(502, {"error": f"the receiver did not answer: {exc}"})
        event_id = json.loads(sent.body)["eventId"]
        return json_response(200, {"event_id": event_id, "receiver_status": sent.status})
