"""Worked examples: hand-written ledgers in tests/fixtures/recon/, loaded and reconciled."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import breaks
from tests.support.ledger import Ledger, fixture_names, load_fixture, matches


@pytest.mark.parametrize("name", fixture_names())
def test_worked_example(name: str, tmp_path: Path) -> None:
    fixture = load_fixture(name)
    ledger = Ledger(tmp_path)
    for i, run in enumerate(fixture["runs"], 1):
        ledger.deliver(run)
        found = ledger.breaks()
        expected = run["expect"]
        unmatched = [f for f in found if not any(matches(f, e) for e in expected)]
        missing = [e for e in expected if not any(matches(f, e) for f in found)]
        assert not unmatched and not missing, (
            f"{fixture['title']} (run {i}): unexpected {unmatched}, missing {missing}"
        )
        assert len(found) == len(expected)


def test_fixtures_cover_the_worked_examples() -> None:
    assert len(fixture_names()) >= 8


def test_a_resolved_gap_keeps_its_break_id(tmp_path: Path) -> None:
    runs = load_fixture("late_entry_resolves_its_gap")["runs"]
    ledger = Ledger(tmp_path)
    ledger.deliver(runs[0])
    (opened,) = ledger.breaks()
    ledger.deliver(runs[1])
    (resolved,) = ledger.breaks()
    assert resolved["break_id"] == opened["break_id"]
    assert (opened["status"], resolved["status"]) == ("open", "resolved")
    assert resolved["first_seen_at"] == opened["first_seen_at"]
    assert resolved["resolved_at"] > opened["first_seen_at"]


def test_the_whalet_platform_check_says_when_it_cannot_tell(tmp_path: Path) -> None:
    runs = load_fixture("whalet_platform_against_its_users")["runs"]
    ledger = Ledger(tmp_path)
    ledger.deliver(runs[0])
    with ledger.connect() as con:
        notes = breaks.cannot_tell(con, breaks.Settings())
        assert "WHALET_USER_IDS_COMPLETE" in notes["whalet_platform_mismatch"]
        assert breaks.cannot_tell(con, breaks.Settings(whalet_users_complete=True)) == {}
