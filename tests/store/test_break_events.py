"""The history of a break, run by run, as fct_break_events keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from tests.support.ledger import Ledger, load_fixture

DAY = "2026-11-09"
ENTRY = {
    "transaction_id": "9010A",
    "in_out_type": 1,
    "currency": "USD",
    "amount": "200.00",
    "before_balance": "0.00",
    "after_balance": "200.00",
    "transaction_time": f"{DAY} 09:00:00",
}


def wallet(balance: str) -> dict[str, Any]:
    """The USD wallet as read with a complete ledger tail, reporting `balance`."""
    return {
        "wallet_id": 1, "wallet_sn": "a1", "wallet_name": "USD", "currency": "USD",
        "available_balance": balance, "freeze_balance": "0", "status": 1,
        "create_at": "2026-11-01 00:00:00",
        "_tail_from": "2026-11-10 00:00:00", "_chain_through": "2026-11-09 23:59:59",
    }  # fmt: skip


def run(balance: str) -> dict[str, Any]:
    return {"windows": {"transactions": {DAY: [dict(ENTRY)]}}, "wallets": [wallet(balance)]}


def events(ledger: Ledger) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(ledger.data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select event, status, difference, event_at from fct_break_events "
            "order by event_at, event"
        ).fetchall()


def test_a_break_that_opens_resolves_and_reopens_keeps_both_openings(tmp_path: Path) -> None:
    """Run 1: the provider reports 205.00 against a chain at 200.00, a mismatch opens. Run 2:
    it reports 200.00, resolved. Run 3: 207.50, the same break opens again, with a new
    difference. Run 4: nothing changes, nothing is added."""
    ledger = Ledger(tmp_path)
    for balance in ("205.00", "200.00", "207.50", "207.50"):
        ledger.deliver(run(balance))
    (brk,) = ledger.breaks()
    history = events(ledger)
    assert [(e, s, str(d)) for e, s, d, _ in history] == [
        ("opened", "open", "5.00000000"),
        ("resolved", "resolved", "5.00000000"),
        ("reopened", "open", "7.50000000"),
    ]
    first_opening, resolution, second_opening = (at for *_, at in history)
    assert first_opening < resolution < second_opening
    assert brk["status"] == "open" and brk["opened_count"] == 2
    assert brk["opened_at"] == second_opening and brk["first_seen_at"] == first_opening
    assert brk["age_days"] == 1  # the fourth run is a day after the third


def test_numbers_that_change_while_open_are_an_event(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.deliver(run("205.00"))
    ledger.deliver(run("206.00"))
    kinds = [e for e, *_ in events(ledger)]
    assert kinds == ["opened", "amount_changed"]
    (brk,) = ledger.breaks()
    assert brk["opened_count"] == 1 and str(brk["difference"]) == "6.00000000"


def test_a_pending_finding_whose_late_leg_arrives_is_withdrawn_not_lost(tmp_path: Path) -> None:
    """The exchange leg booked after midnight (worked example exchange_leg_after_window_end):
    pending after run 1, gone from fct_breaks after run 2; the events say what happened."""
    ledger = Ledger(tmp_path)
    for delivery in load_fixture("exchange_leg_after_window_end")["runs"]:
        ledger.deliver(delivery)
    assert ledger.breaks() == []
    assert [(e, s) for e, s, *_ in events(ledger)] == [
        ("pending", "pending"),
        ("withdrawn", "withdrawn"),
    ]
