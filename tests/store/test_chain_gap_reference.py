"""chain_gap against its first version: the same breaks on many random ledgers.

tests/fixtures/chain_gap_reference.sql is the first version of sql/recon/chain_gap.sql, which
paired every balance of every entry; chain_gap now settles most links in one pass in time
order and pairs only what is left (docs/checks.md, "How the chain check is computed"), and must
give exactly the first version's rows. Both run here over real DuckDB on seeded random wallets:
same-second bursts whose ids run against the booking order, entries missing (gaps), balances
that do not follow, twins, entries that do not move the balance, entries booked a second out of
order, one id in both directions, balances that come back again and again, rows delivered
shuffled. Every output column must agree, so break ids, amounts and detail sentences are the
same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from store.duck import sql_text

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "chain_gap_reference.sql"
START = datetime(2026, 11, 9, 9, 0, 0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Shape:
    """How one random wallet is drawn."""

    entries: tuple[int, int]
    amounts: tuple[int, ...]  # in steps; 0 = an entry that does not move the balance
    step: Decimal
    seconds_apart: tuple[int, ...]  # 0 = the same second as the entry before
    missing: float  # an entry booked but never delivered: a gap
    bad_before: float  # an entry whose before_balance does not follow
    twin: float  # a second entry with the same money in the same second
    out_of_order: float  # booked a second earlier or later than its place in the chain


# Small balances that keep coming back, many bursts and gaps: where pairing is hard.
TANGLED = Shape(
    entries=(0, 30),
    amounts=(0, 1, 1, 2, 3),
    step=Decimal("1.00"),
    seconds_apart=(0, 0, 0, 1, 1, 2, 60),
    missing=0.12,
    bad_before=0.05,
    twin=0.05,
    out_of_order=0.03,
)
# A realistic ledger: long, cents, occasional bursts, rare gaps; mostly settled in time order.
LONG = Shape(
    entries=(30, 150),
    amounts=tuple(range(1, 5000)),
    step=CENT,
    seconds_apart=(0, *range(1, 40)),
    missing=0.01,
    bad_before=0.005,
    twin=0.01,
    out_of_order=0.005,
)


LEDGER_SCHEMA = pa.schema(
    [
        ("provider", pa.string()),
        ("account_id", pa.string()),
        ("wallet_key", pa.string()),
        ("wallet_name", pa.string()),
        ("currency", pa.string()),
        ("transaction_id", pa.string()),
        ("in_out_type", pa.int64()),
        ("before_balance", pa.decimal128(18, 2)),
        ("after_balance", pa.decimal128(18, 2)),
        ("transaction_time", pa.timestamp("us")),
        ("created_at", pa.timestamp("us")),
        ("_source_file", pa.string()),
        ("_window_start", pa.timestamp("us")),
        ("_window_end", pa.timestamp("us")),
    ]
)


def add_wallet(
    rng: random.Random, shape: Shape, key: tuple[str, str, str], ledger: dict[str, list[Any]]
) -> None:
    """Book a random chain for one wallet, then deliver it imperfectly into `ledger`."""
    balance = rng.randint(0, 6) * shape.step
    at = START
    booked = []
    for _ in range(rng.randint(*shape.entries)):
        amount = rng.choice(shape.amounts) * shape.step
        in_out_type = rng.choice((1, 2))
        before = balance
        balance += amount if in_out_type == 1 else -amount
        at += timedelta(seconds=rng.choice(shape.seconds_apart))
        booked.append((before, balance, at, in_out_type))
    delivered = []
    for before, after, at, in_out_type in booked:
        if rng.random() < shape.missing:
            continue
        if rng.random() < shape.bad_before:
            before += rng.choice((-1, 1)) * shape.step
        if rng.random() < shape.out_of_order:
            at += timedelta(seconds=rng.choice((-1, 1)))
        delivered.append((before, after, at, in_out_type))
        if rng.random() < shape.twin:
            delivered.append((before, after, at, in_out_type))
    # Ids drawn at random: within a second, id order says nothing about booking order.
    ids = rng.sample(range(100_000), len(delivered))
    previous: tuple[str, int] | None = None
    for number, (before, after, at, in_out_type) in zip(ids, delivered, strict=True):
        transaction_id = f"T{number:05d}"
        if previous and previous[1] != 3 - in_out_type and rng.random() < 0.03:
            # One id booked in both directions (a reversal), as OPEN-API keys allow.
            transaction_id, in_out_type = previous[0], 3 - previous[1]
        previous = (transaction_id, in_out_type)
        day = datetime(at.year, at.month, at.day)
        values = (
            *key, "USD", "USD", transaction_id, in_out_type, before, after, at,
            at + timedelta(seconds=rng.choice((0, 0, 1, 3, -2))),
            f"/lake/{transaction_id}.parquet", day, day + timedelta(days=1),
        )  # fmt: skip
        for name, value in zip(LEDGER_SCHEMA.names, values, strict=True):
            ledger[name].append(value)


def random_ledger(seed: int, wallets: int) -> pa.Table:
    rng = random.Random(seed)
    ledger: dict[str, list[Any]] = {name: [] for name in LEDGER_SCHEMA.names}
    for n in range(wallets):
        provider = rng.choice(("openapi", "jt"))
        account_id = str(rng.randint(1, 3))
        shape = TANGLED if rng.random() < 0.85 else LONG
        add_wallet(rng, shape, (provider, account_id, f"{account_id}:W{n}"), ledger)
    table = pa.Table.from_pydict(ledger, schema=LEDGER_SCHEMA)
    # Delivery order is not booking order either.
    return table.take(rng.sample(range(table.num_rows), table.num_rows))


def both_answers(
    con: duckdb.DuckDBPyConnection, ledger: pa.Table
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    con.register("generated", ledger)
    con.execute("create or replace table fct_ledger_entries as select * from generated")
    con.unregister("generated")
    # chain_gap reads the stretch ends its helper finds.
    unlinked = sql_text("int_ledger__unlinked")
    con.execute(f"create or replace table int_ledger__unlinked as {unlinked}")
    new = con.execute(f"select * from ({sql_text('chain_gap')}) order by all").fetchall()
    old = con.execute(f"select * from ({REFERENCE.read_text()}) order by all").fetchall()
    return new, old


def naive_gaps(con: duckdb.DuckDBPyConnection) -> int:
    """Gaps a plain lag() in time-then-id order would report: more than the pairing finds."""
    row = con.execute(
        """
        select count(*) from (
            select before_balance, lag(after_balance) over (
                partition by provider, account_id, wallet_key
                order by transaction_time, transaction_id, in_out_type
            ) as previous_after_balance
            from fct_ledger_entries
        ) where before_balance <> previous_after_balance
        """
    ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("seed", range(6))
def test_chain_gap_gives_the_reference_pairings_breaks(seed: int) -> None:
    with duckdb.connect() as con:
        new, old = both_answers(con, random_ledger(seed, wallets=1000))
        naive = naive_gaps(con)
    # The ledgers are hard enough to tell the algorithms apart: many breaks, and many more
    # links that only pairing balances (not the order of rows) gets right.
    assert len(old) > 1000
    assert naive > len(old) * 1.2
    missing = sorted(set(old) - set(new))[:3]
    extra = sorted(set(new) - set(old))[:3]
    assert new == old, f"seed {seed}: reference only {missing}; new only {extra}"


def test_a_ledger_without_entries_has_no_gaps() -> None:
    with duckdb.connect() as con:
        new, old = both_answers(con, LEDGER_SCHEMA.empty_table())
    assert new == old == []
