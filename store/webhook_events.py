"""Provider webhooks as hints (providers.md §1.7, §5): what one notification is, what of it
is kept, and which re-pulls a batch of them asks for.

A webhook never changes a balance or a break: it only says which day windows and snapshots
are worth pulling again soon. The receiver (`outputs.webhooks`) checks the signature and
keeps each event once by its `eventId` (`store.webhook_store`); the sensor
(`pipelines.sensors`) turns unprocessed events into runs with `plan_repulls`.

What is kept of an event is its payload with card secrets gone: `cvv`, `pin` (and their
variants) dropped, `card_no` cut to its last four digits, and every other string or number
redacted for card numbers and the customer's key (`connectors.redact`). Money stays exact:
the body is parsed with Decimal and numbers are kept as their text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.openapi.profile import PROFILE
from connectors.redact import Secrets, redact

# Card secrets the payload may carry (masked by the provider, dropped here all the same).
SECRET_FIELDS = frozenset({"cvv", "cvv2", "cvc", "pin", "pin_code", "password"})
PAN_FIELDS = frozenset({"card_no", "card_number", "pan"})
# Business times of the payload, on the provider's naive clock: the day windows they fall in.
TIME_FIELDS = ("transaction_time", "trade_time", "settle_time", "create_at", "finish_at")
TIME_FORMAT = PROFILE.datetime_format
EPOCH = datetime(1970, 1, 1)
MAX_ID = 128
# Days further apart than this become runs of their own rather than one run over the gap.
MERGE_GAP_DAYS = 3


class EventRefused(ValueError):
    """A body that is no usable event; the message says why (never the body itself)."""


@dataclass(frozen=True)
class Event:
    """One notification as kept: `payload` is the scrubbed `data` as JSON text."""

    event_id: str
    customer_id: int
    event_tag: str
    sent_at: datetime | None  # the body's `timestamp`, UTC, naive
    payload: str


def customer_of(body: bytes) -> int | None:
    """The `customer_id` a body claims, to pick the key its signature is checked with."""
    try:
        doc = json.loads(body, parse_float=Decimal)
    except ValueError:
        return None
    value = doc.get("customer_id") if isinstance(doc, dict) else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_event(body: bytes, key: str) -> Event:
    """The event in a body whose signature was checked, scrubbed of card secrets and `key`."""
    try:
        doc = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise EventRefused("the body is not JSON") from None
    if not isinstance(doc, dict):
        raise EventRefused("the body is not a JSON object")
    event_id, tag = doc.get("eventId"), doc.get("eventTag")
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not str(event_id):
        raise EventRefused("eventId is missing")
    if not isinstance(tag, str) or not tag or len(tag) > 64:
        raise EventRefused("eventTag is missing")
    customer = customer_of(body)
    if customer is None:
        raise EventRefused("customer_id is missing")
    if len(str(event_id)) > MAX_ID:
        raise EventRefused(f"eventId is longer than {MAX_ID} characters")
    data = doc.get("data")
    secrets = Secrets(key)
    return Event(
        event_id=str(event_id),
        customer_id=customer,
        event_tag=tag,
        sent_at=_sent_at(doc.get("timestamp")),
        payload=json.dumps(scrub(data if data is not None else {}, secrets), sort_keys=True),
    )


def _sent_at(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        # Milliseconds since the epoch, in integers: no float on the way.
        return EPOCH + timedelta(milliseconds=int(value))
    except (OverflowError, OSError, ValueError):
        return None


def scrub(value: Any, secrets: Secrets) -> Any:
    """A decoded JSON value without card secrets or the key; numbers as exact text."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = str(k)
            if name.lower() in SECRET_FIELDS:
                continue
            if name.lower() in PAN_FIELDS:
                digits = "".join(ch for ch in str(v) if ch.isdigit())
                out[f"{name}_last4"] = digits[-4:]
                continue
            out[name] = scrub(v, secrets)
        return out
    if isinstance(value, list | tuple):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        text = str(value)
        cleaned = redact(text, secrets)
        return value if cleaned == text else cleaned
    # Decimal (a money amount) as its exact text: JSON has no exact decimal to write it as.
    return redact(str(value), secrets)


@dataclass(frozen=True)
class Repull:
    """One run a batch of events asks for: the day windows first..last (inclusive, provider
    days) and the snapshots, and the events it answers."""

    first: date
    last: date
    snapshots: tuple[str, ...]
    customers: tuple[int, ...]
    event_ids: tuple[str, ...] = field(repr=False)

    def run_key(self) -> str:
        """The same events always ask for the same run: Dagster starts it once."""
        digest = hashlib.sha256("\n".join(sorted(self.event_ids)).encode()).hexdigest()
        return f"webhooks-{digest[:32]}"


def snapshots_for(tag: str) -> tuple[str, ...]:
    """The snapshots an event's tag makes worth re-pulling (OPEN-API entities)."""
    if tag.startswith(("card.", "order.")):
        return ("cards",)
    if tag.startswith("wallet."):
        return ("wallets",)
    return ()


def event_days(event: Event, zone: ZoneInfo) -> set[date]:
    """The provider days an event concerns: the day it was sent on the provider's clock and
    the days of the business times its payload names."""
    days: set[date] = set()
    if event.sent_at is not None:
        days.add(event.sent_at.replace(tzinfo=UTC).astimezone(zone).date())
    try:
        data = json.loads(event.payload)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for name in TIME_FIELDS:
            text = data.get(name)
            if isinstance(text, str) and text:
                try:
                    days.add(datetime.strptime(text, TIME_FORMAT).date())
                except ValueError:
                    continue
    return days


def plan_repulls(
    events: Sequence[Event], zone: ZoneInfo, today: date, earliest: date
) -> list[Repull]:
    """Few runs for many events: the days of all events (within earliest..today, the
    partitions that exist), grouped into ranges where no gap exceeds MERGE_GAP_DAYS, each with
    every snapshot any of its events asks for. An event with no usable day is answered by the
    run over today."""
    by_day: dict[date, list[Event]] = {}
    for event in events:
        days = {d for d in event_days(event, zone) if earliest <= d <= today} or {today}
        for d in days:
            by_day.setdefault(d, []).append(event)
    plans: list[Repull] = []
    for group in _ranges(sorted(by_day)):
        members = {e.event_id: e for d in group for e in by_day[d]}
        plans.append(
            Repull(
                first=group[0],
                last=group[-1],
                snapshots=_union(snapshots_for(e.event_tag) for e in members.values()),
                customers=tuple(sorted({e.customer_id for e in members.values()})),
                event_ids=tuple(sorted(members)),
            )
        )
    return plans


def _ranges(days: list[date]) -> list[list[date]]:
    groups: list[list[date]] = []
    for d in days:
        if groups and d - groups[-1][-1] <= timedelta(days=MERGE_GAP_DAYS):
            groups[-1].append(d)
        else:
            groups.append([d])
    return groups


def _union(parts: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(sorted({s for p in parts for s in p}))
