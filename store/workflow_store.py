"""The workflow store: every analyst action on a break, kept apart from the warehouse.

SQLite under `$RECON_DATA_DIR` by default, the production PostgreSQL when
`RECON_WORKFLOW_URL` names one (docs/operations.md#the-workflow-store); SQLAlchemy Core gives
both one code path. Actions are only ever added. A pipeline run opens the store read-only
(`WorkflowStore.reader`): it copies the state into the warehouse and never writes here, so
nothing a run does can lose what an analyst recorded.

The URL may hold a password: messages name the setting and the host, never the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from store.sql_store import describe, driver_error, open_store
from store.workflow import DEFAULT_REASON_CODES, Action, check

SETTING = "RECON_WORKFLOW_URL"
TABLE = "recon_workflow_actions"

_metadata = sa.MetaData()
actions_table = sa.Table(
    TABLE,
    _metadata,
    sa.Column("action_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("break_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("note", sa.Text()),
    sa.Column("owner", sa.String(200)),
    sa.Column("reason_code", sa.String(64)),
    sa.Column("status", sa.String(16)),
    # Exact decimals as text: SQLite has no exact decimal type, and these are compared for
    # equality with the warehouse's DECIMAL(38,8) to decide whether an explanation holds.
    sa.Column("expected", sa.String(64)),
    sa.Column("actual", sa.String(64)),
    sa.Column("difference", sa.String(64)),
)


class WorkflowError(RuntimeError):
    """The store cannot be opened or written; the message names where, never a password."""


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class WorkflowStore:
    """Actions in, actions out. `url` is an SQLAlchemy URL (sqlite:///…, postgresql://…)."""

    def __init__(self, url: str, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self.where = describe(url, SETTING)
        opened = open_store(url, SETTING, "workflow store", WorkflowError, read_only)
        self._engine: Engine = opened.engine
        self._sqlite_path = opened.sqlite_path

    @classmethod
    def reader(cls, url: str) -> WorkflowStore:
        return cls(url, read_only=True)

    def close(self) -> None:
        self._engine.dispose()

    def _connect(self) -> Connection:
        try:
            con = self._engine.connect()
        except SQLAlchemyError as exc:
            raise WorkflowError(
                f"cannot open the workflow store {self.where}: {driver_error(exc)}"
            ) from None
        if self.read_only and self._sqlite_path is None:
            con = con.execution_options(postgresql_readonly=True)
        return con

    def exists(self) -> bool:
        if self._sqlite_path is not None and not self._sqlite_path.exists():
            return False
        with self._connect() as con:
            return sa.inspect(con).has_table(TABLE)

    def create(self) -> None:
        """The table, if it is not there yet (the app does this; a run never does)."""
        if self.read_only:
            raise WorkflowError("a read-only workflow store creates nothing")
        if self._sqlite_path is not None:
            self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            _metadata.create_all(con)
            con.commit()

    def record(self, action: Action, reason_codes: Sequence[str] = DEFAULT_REASON_CODES) -> Action:
        """Add one action (checked first); returns it as kept."""
        if self.read_only:
            raise WorkflowError("the workflow store was opened read-only")
        action = check(action, reason_codes)
        values: dict[str, Any] = {
            "break_id": action.break_id,
            "action": action.action,
            "actor": action.actor,
            "at": action.at,
            "note": action.note,
            "owner": action.owner,
            "reason_code": action.reason_code,
            "status": action.status,
            "expected": _text(action.expected),
            "actual": _text(action.actual),
            "difference": _text(action.difference),
        }
        self.create()
        try:
            with self._connect() as con:
                con.execute(actions_table.insert().values(**values))
                con.commit()
        except SQLAlchemyError as exc:
            raise WorkflowError(
                f"the workflow store {self.where} refused the action: {driver_error(exc)}"
            ) from None
        return action

    def actions(self, break_id: str | None = None) -> list[Action]:
        """Every action (or one break's), oldest first; none while the store is empty."""
        if not self.exists():
            return []
        query = sa.select(actions_table).order_by(actions_table.c.at, actions_table.c.action_id)
        if break_id is not None:
            query = query.where(actions_table.c.break_id == break_id)
        try:
            with self._connect() as con:
                rows = con.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise WorkflowError(
                f"cannot read the workflow store {self.where}: {driver_error(exc)}"
            ) from None
        return [
            Action(
                break_id=r["break_id"],
                action=r["action"],
                actor=r["actor"],
                at=r["at"],
                note=r["note"],
                owner=r["owner"],
                reason_code=r["reason_code"],
                status=r["status"],
                expected=_number(r["expected"]),
                actual=_number(r["actual"]),
                difference=_number(r["difference"]),
            )
            for r in rows
        ]
