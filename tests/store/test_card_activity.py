"""fct_card_activity over a worked example: where each card's history opens."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.support.ledger import Ledger, load_fixture


def test_a_card_opened_before_the_history_opens_at_what_it_held_then(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    for run in load_fixture("card_opened_before_the_loaded_history")["runs"]:
        ledger.deliver(run)
    with ledger.connect() as con:
        rows = con.execute(
            "select card_id, activity_date, opening_balance, top_ups, spend, closing_balance "
            "from fct_card_activity order by card_id, activity_date"
        ).fetchall()
    day = date(2026, 11, 9)
    assert rows == [
        # Opened in the history: its opening order is loaded, so it held nothing before it,
        # and a snapshot that disagrees moves no opening balance.
        ("C1", day, Decimal("0.00"), Decimal("100.00"), Decimal("25.00"), Decimal("75.00")),
        # Opened in October: reported 120.00 less the loaded +20.00 it moved since.
        ("C9", day, Decimal("100.00"), Decimal("50.00"), Decimal("30.00"), Decimal("120.00")),
    ]
