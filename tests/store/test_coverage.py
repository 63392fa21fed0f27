"""fct_coverage over worked examples: what the checks vouch for, summing back to the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from tests.support.ledger import Ledger, load_fixture

COVERAGE_KEY = ("provider", "account_id", "currency", "day")


def coverage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute("select * from fct_coverage order by provider, account_id, currency, day")
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def as_stated(row: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The row's values of the columns the expectation names, in the fixture's spelling."""
    out: dict[str, Any] = {}
    for name in expected:
        value = row[name]
        out[name] = str(value) if isinstance(value, Decimal | date) else value
    return out


def sums_back(con: duckdb.DuckDBPyConnection) -> None:
    """Per provider and day, fct_coverage's entries and volume are exactly the ledger's."""
    by_day = """
        select provider, day, sum(entries)::bigint, sum(volume) from fct_coverage
        group by all order by all
    """
    ledger = """
        select provider, cast(transaction_time as date), count(*), sum(amount)
        from fct_ledger_entries group by all order by all
    """
    assert con.execute(by_day).fetchall() == con.execute(ledger).fetchall()


def test_coverage_of_a_day_and_a_lone_record_it_cannot_vouch_for(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    seen: list[dict[str, Any]] = []
    for run in load_fixture("coverage_of_a_day")["runs"]:
        ledger.deliver(run)
        with ledger.connect() as con:
            rows = coverage(con)
            sums_back(con)
        expected = run["expect_coverage"]
        assert [tuple(str(r[k]) for k in COVERAGE_KEY) for r in rows] == [
            tuple(e[k] for k in COVERAGE_KEY) for e in expected
        ]
        assert [as_stated(r, e) for r, e in zip(rows, expected, strict=True)] == expected
        seen.append(next(r for r in rows if r["provider"] == "jt"))
    before, after = seen
    # The planted lone record (77.77 THB) lowers the verified share by exactly its amount:
    # loaded volume grows by it, verified volume does not move.
    assert after["volume"] - before["volume"] == Decimal("77.77")
    assert after["chain_verified_volume"] == before["chain_verified_volume"]
    unverified = [r["volume"] - r["chain_verified_volume"] for r in (before, after)]
    assert unverified[1] - unverified[0] == Decimal("77.77")
