"""The webhook store: each provider notification kept once by its `eventId`, until the sensor
has asked for the re-pull it hints at.

Kept like the analysts' workflow store (`store.workflow_store`): SQLite under
`$RECON_DATA_DIR` by default, PostgreSQL when `RECON_WEBHOOK_STORE_URL` names one; SQLAlchemy
Core gives both one code path. The receiver adds events (a second delivery of an `eventId`
adds nothing); the sensor reads the unprocessed ones and marks them processed with the run
key it asked for. Nothing here holds a key or a card secret (store.webhook_events scrubs).

The URL may hold a password: messages name the setting and the host, never the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from store.sql_store import describe, driver_error, open_store
from store.webhook_events import Event

SETTING = "RECON_WEBHOOK_STORE_URL"
TABLE = "recon_webhook_events"

_metadata = sa.MetaData()
events_table = sa.Table(
    TABLE,
    _metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("customer_id", sa.BigInteger(), nullable=False),
    sa.Column("event_tag", sa.String(64), nullable=False),
    sa.Column("sent_at", sa.DateTime()),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("processed_at", sa.DateTime(), index=True),
    sa.Column("run_key", sa.String(64)),
)


class WebhookStoreError(RuntimeError):
    """The store cannot be opened or written; the message names where, never a password."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class WebhookStore:
    """Events in once, pending events out. `url` is sqlite:///… or postgresql://…."""

    def __init__(self, url: str) -> None:
        self.where = describe(url, SETTING)
        opened = open_store(url, SETTING, "webhook store", WebhookStoreError)
        self._engine: Engine = opened.engine
        self._sqlite_path = opened.sqlite_path

    def close(self) -> None:
        self._engine.dispose()

    def _connect(self) -> Connection:
        try:
            return self._engine.connect()
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"cannot open the webhook store {self.where}: {driver_error(exc)}"
            ) from None

    def exists(self) -> bool:
        if self._sqlite_path is not None and not self._sqlite_path.exists():
            return False
        with self._connect() as con:
            return sa.inspect(con).has_table(TABLE)

    def create(self) -> None:
        """The table, if it is not there yet (the receiver does this when it starts)."""
        if self._sqlite_path is not None:
            self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as con:
                _metadata.create_all(con)
                con.commit()
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"cannot create the webhook store {self.where}: {driver_error(exc)}"
            ) from None

    def add(self, event: Event) -> bool:
        """Keep the event; False when its `eventId` is already kept (a redelivery or a
        replay: it changes nothing, whatever the second body says)."""
        values = {
            "event_id": event.event_id,
            "customer_id": event.customer_id,
            "event_tag": event.event_tag,
            "sent_at": event.sent_at,
            "received_at": _now(),
            "payload": event.payload,
        }
        try:
            with self._connect() as con:
                con.execute(events_table.insert().values(**values))
                con.commit()
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"the webhook store {self.where} refused an event: {driver_error(exc)}"
            ) from None
        return True

    def _events(self, query: sa.Select[tuple[object, ...]]) -> list[Event]:
        if not self.exists():
            return []
        try:
            with self._connect() as con:
                rows = con.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"cannot read the webhook store {self.where}: {driver_error(exc)}"
            ) from None
        return [
            Event(
                event_id=r["event_id"],
                customer_id=int(r["customer_id"]),
                event_tag=r["event_tag"],
                sent_at=r["sent_at"],
                payload=r["payload"],
            )
            for r in rows
        ]

    def events(self) -> list[Event]:
        """Every event kept, oldest first."""
        t = events_table.c
        return self._events(sa.select(events_table).order_by(t.received_at, t.event_id))

    def pending(self, limit: int = 1000) -> list[Event]:
        """Events no run was asked for yet, oldest first."""
        t = events_table.c
        query = (
            sa.select(events_table)
            .where(t.processed_at.is_(None))
            .order_by(t.received_at, t.event_id)
            .limit(limit)
        )
        return self._events(query)

    def mark_processed(self, event_ids: Sequence[str], run_key: str) -> None:
        """The events a run was asked for; marked once (a later mark changes nothing)."""
        if not event_ids:
            return
        t = events_table.c
        statement = (
            events_table.update()
            .where(t.event_id.in_(list(event_ids)), t.processed_at.is_(None))
            .values(processed_at=_now(), run_key=run_key)
        )
        try:
            with self._connect() as con:
                con.execute(statement)
                con.commit()
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"the webhook store {self.where} refused an update: {driver_error(exc)}"
            ) from None

    def processed(self) -> dict[str, str]:
        """Event id -> the run key it was answered by, for the events marked processed."""
        if not self.exists():
            return {}
        t = events_table.c
        query = sa.select(t.event_id, t.run_key).where(t.processed_at.is_not(None))
        try:
            with self._connect() as con:
                return {r[0]: r[1] for r in con.execute(query).all()}
        except SQLAlchemyError as exc:
            raise WebhookStoreError(
                f"cannot read the webhook store {self.where}: {driver_error(exc)}"
            ) from None
