"""The webhook receiver: an ASGI app (Starlette, like the triage app) that takes OPEN-API
notifications, checks each one's signature and keeps it once (providers.md §5;
docs/operations.md#the-webhook-receiver).

It is a server, so it receives HTTP outside `connectors/` (which holds the pipeline's own
requests); it imports no Dagster. What it trusts: a body whose `X-Signature` is the hex
HMAC-SHA256 of the raw body with the key configured for the `customer_id` the body names.
Anything else is refused with 401 and kept nowhere. A signed event is kept once by its
`eventId`, scrubbed of card secrets (store.webhook_events); a second delivery of the same id,
a provider retry or a replay, is answered 200 and changes nothing. The receiver never touches
the warehouse: the sensor turns kept events into re-pulls, and only pulled data can change a
balance or a break.

Nothing of a body reaches a log line: the log says the event id, tag and customer, or why
a body was refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store.webhook_events import EventRefused, customer_of, parse_event
from store.webhook_store import WebhookStore, WebhookStoreError

PATH = "/webhooks/openapi"
SIGNATURE_HEADER = "x-signature"
MAX_BODY_BYTES = 1 << 20
log = logging.getLogger("recon.webhooks")


@dataclass(frozen=True)
class ReceiverSettings:
    """The customers' keys (customer_id -> key, from the OPEN-API provider settings) and the
    store events are kept in."""

    keys: Mapping[int, str]
    store: WebhookStore

    def __repr__(self) -> str:  # the keys stay out of every traceback and log line
        return f"ReceiverSettings(customers={sorted(self.keys)}, store={self.store.where})"


def signature(body: bytes, key: str) -> str:
    """The hex HMAC-SHA256 of the raw body with the customer's key."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verified(body: bytes, given: str, keys: Mapping[int, str]) -> int | None:
    """The customer whose key signed this body, or None (unknown customer, bad signature)."""
    customer = customer_of(body)
    key = keys.get(customer) if customer is not None else None
    given = given.strip().lower()
    # compare_digest takes ASCII text only; a header that is not is no signature of ours.
    if key is None or not given or not given.isascii():
        return None
    return customer if hmac.compare_digest(signature(body, key), given) else None


async def _body(request: Request) -> bytes | None:
    """The raw body, or None past MAX_BODY_BYTES (read no further than that)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, said: str) -> JSONResponse:
    return JSONResponse({"status": said}, status_code=status)


def build_receiver(settings: ReceiverSettings) -> Starlette:
    """The receiver as its own ASGI app; `routes(settings)` mounts it next to the UI."""
    settings.store.create()
    return Starlette(routes=routes(settings))


def routes(settings: ReceiverSettings) -> list[Route]:
    async def receive(request: Request) -> JSONResponse:
        try:
            body = await _body(request)
        except ClientDisconnect:
            return _answer(400, "the body did not arrive whole")
        if body is None:
            return _answer(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        customer = verified(body, request.headers.get(SIGNATURE_HEADER, ""), settings.keys)
        if customer is None:
            log.warning("webhook refused: no valid signature for the customer it names")
            return _answer(401, "signature does not verify")
        try:
            event = parse_event(body, settings.keys[customer])
        except EventRefused as exc:
            log.warning("webhook from customer %s refused: %s", customer, exc)
            return _answer(400, str(exc))
        try:
            new = await run_in_threadpool(settings.store.add, event)
        except WebhookStoreError as exc:
            # 5xx: the provider delivers at least once, so it will try again.
            log.error("webhook %s not kept: %s", event.event_id, exc)
            return _answer(503, "not kept, try again")
        said = "kept" if new else "already kept"
        log.info("webhook %s %s customer %s: %s", event.event_id, event.event_tag, customer, said)
        return _answer(200, said)

    async def health(request: Request) -> JSONResponse:
        return _answer(200, "ok")

    return [
        Route(PATH, receive, methods=["POST"]),
        Route("/webhooks/health", health, methods=["GET"]),
    ]
