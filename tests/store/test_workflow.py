"""The workflow store and the state analysts' actions add up to: SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.sql_store import sqlite_url
from store.workflow import (
    ACKNOWLEDGED,
    ASSIGNED,
    COMMENTED,
    EXPLAINED,
    NEW,
    UNEXPLAINED,
    Action,
    current,
    fold,
    parse_reason_codes,
)
from store.workflow_store import WorkflowError, WorkflowStore
from tests.support.postgres import postgres_server

T0 = datetime(2026, 11, 12, 9, 30)
NUMBERS = (Decimal("200.00000000"), Decimal("205.00000000"), Decimal("5.00000000"))


def act(kind: str, minutes: int, **kw: object) -> Action:
    fields: dict[str, object] = {
        "break_id": "b1",
        "action": kind,
        "actor": "alice",
        "at": T0 + timedelta(minutes=minutes),
        "status": "open",
        "expected": NUMBERS[0],
        "actual": NUMBERS[1],
        "difference": NUMBERS[2],
    }
    return Action(**(fields | kw))  # type: ignore[arg-type]


def test_an_explanation_holds_while_the_numbers_do() -> None:
    states = fold(
        [
            act(EXPLAINED, 3, reason_code="timing", note="settles tomorrow"),
            act(ACKNOWLEDGED, 0),
            act(ASSIGNED, 1, owner="bob"),
            act(COMMENTED, 2, note="asked the provider"),
        ]
    )
    state = states["b1"]
    assert (state.workflow_status, state.owner, state.reason_code, state.note) == (
        EXPLAINED,
        "bob",
        "timing",
        "settles tomorrow",
    )
    # The warehouse's DECIMAL(38,8) and the explained numbers are compared as numbers.
    same = (Decimal("200"), Decimal("205.00"), Decimal("5"))
    assert current(state, same).workflow_status == EXPLAINED
    moved = current(state, (NUMBERS[0], Decimal("207.50"), Decimal("7.50")))
    assert (moved.workflow_status, moved.reason_code, moved.owner) == (NEW, None, "bob")
    assert current(None, NUMBERS).workflow_status == NEW
    # Undoing an explanation leaves the break acknowledged: somebody has looked at it.
    undone = fold([act(EXPLAINED, 0, reason_code="timing"), act(UNEXPLAINED, 1)])["b1"]
    assert (undone.workflow_status, undone.reason_code) == (ACKNOWLEDGED, None)


def test_reason_codes_are_configurable_and_checked() -> None:
    assert parse_reason_codes("") == (
        "timing",
        "provider_error_reported",
        "fee_rounding",
        "known_adjustment",
    )
    assert parse_reason_codes(" timing, bank_holiday ") == ("timing", "bank_holiday")
    with pytest.raises(ValueError, match="RECON_WORKFLOW_REASON_CODES"):
        parse_reason_codes("timing,Bad Code")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "workflow" / "workflow.sqlite")
        return
    with postgres_server() as pg:
        yield f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/{pg.database}"


def test_actions_are_kept_exactly_and_a_reader_cannot_write(url: str) -> None:
    reader = WorkflowStore.reader(url)
    assert reader.actions() == []  # nothing recorded yet: no store, no error
    store = WorkflowStore(url)
    odd = (Decimal("0.10000000"), Decimal("0.30000000"), Decimal("0.20000000"))
    kept = store.record(
        act(EXPLAINED, 0, reason_code="fee_rounding", note="  rounding  ", expected=odd[0],
            actual=odd[1], difference=odd[2])
    )  # fmt: skip
    store.record(act(ASSIGNED, 1, owner="bob", break_id="b2", actor="carol"))
    assert kept.note == "rounding"
    found = reader.actions()
    assert [(a.break_id, a.action, a.actor) for a in found] == [
        ("b1", EXPLAINED, "alice"),
        ("b2", ASSIGNED, "carol"),
    ]
    assert found[0].numbers == odd and all(isinstance(n, Decimal) for n in found[0].numbers)
    assert [str(n) for n in found[0].numbers] == ["0.10000000", "0.30000000", "0.20000000"]
    assert reader.actions("b2")[0].owner == "bob"
    # The run's reader is read-only in the database itself, not only by its own word.
    with pytest.raises(sa.exc.DBAPIError, match=r"read-?only"), reader._connect() as con:
        con.execute(sa.text("delete from recon_workflow_actions"))
        con.commit()
    assert len(store.actions()) == 2
    with pytest.raises(WorkflowError):
        reader.record(act(ACKNOWLEDGED, 2))
    reader.close()
    store.close()


def test_bad_actions_are_refused_with_the_reason(tmp_path: Path) -> None:
    store = WorkflowStore(sqlite_url(tmp_path / "w.sqlite"))
    with pytest.raises(ValueError, match="reason code, one of: timing"):
        store.record(act(EXPLAINED, 0, reason_code="because"))
    with pytest.raises(ValueError, match="a comment needs a note"):
        store.record(act(COMMENTED, 0, note="  "))
    with pytest.raises(ValueError, match="name of a person"):
        store.record(act(ACKNOWLEDGED, 0, actor="run"))
    assert store.record(act(EXPLAINED, 0, reason_code="bank_holiday"), ("bank_holiday",))
    with pytest.raises(WorkflowError, match="RECON_WORKFLOW_URL"):
        WorkflowStore("mysql://x@y/z")


def test_an_unreachable_database_is_named_without_its_password() -> None:
    store = WorkflowStore.reader("postgresql://recon:s3cret-pw@127.0.0.1:9/nothing")
    with pytest.raises(WorkflowError) as caught:
        store.actions()
    assert "127.0.0.1" in str(caught.value) and "s3cret-pw" not in str(caught.value)
