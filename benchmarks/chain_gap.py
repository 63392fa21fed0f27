"""`make bench`, the chain check: what `chain_gap` costs against the least a chain check could.

A synthetic ledger of 500k entries (1,000 wallets of 500) is built in DuckDB: amounts in cents,
bursts of entries sharing a second whose ids run against the booking order, `create_at` a
little after `transaction_time`, a few entries that do not move the balance, and ~25 entries
missing (gaps). On the same rows, in the same run, are timed (median of interleaved rounds):
- a naive lag() scan: each entry against the one before it in (time, id) order, the floor a
  chain check costs (it is wrong on same-second bursts, so it is not an alternative);
- `chain_gap` (sql/recon/int_ledger__unlinked.sql, then sql/recon/chain_gap.sql), as the
  pipeline builds it;
- the first version (tests/fixtures/chain_gap_reference.sql), which paired every balance.
Printed: chain_gap / naive and first version / naive, once for a ledger with few bursts and
once for a bursty one. chain_gap and the first version must find the same rows.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from store.duck import sql_text

REFERENCE = Path(__file__).resolve().parent.parent / "tests/fixtures/chain_gap_reference.sql"
WALLETS = 1_000
ENTRIES_PER_WALLET = 500
MISSING_ONE_IN = 20_000  # entries never delivered: the gaps
ROUNDS = 5

# Money stays in integer cents until the one exact cast at the end (no float near money).
LEDGER = """
create or replace table fct_ledger_entries as
with booked as (
    select
        w as wallet_no,
        i as entry_no,
        hash(w, i, 'second') % $shared_one_in = 0 as shares_second,
        hash(w, i, 'zero') % 500 = 0 as moves_nothing,
        hash(w, i, 'direction') % 2 = 0 as is_income,
        cast(hash(w, i, 'amount') % 200000 + 1 as bigint) as amount_cents
    from range($wallets) as wallets (w), range($entries) as entries (i)
),

chained as (
    select
        *,
        case when moves_nothing then 0 when is_income then amount_cents else -amount_cents end
            as signed_cents,
        sum(case when shares_second then 0 else 1 + hash(wallet_no, entry_no, 'pause') % 600 end)
            over booking_order as second_no,
        1000000 + sum(
            case when moves_nothing then 0 when is_income then amount_cents else -amount_cents end
        ) over booking_order as after_cents
    from booked
    window booking_order as (partition by wallet_no order by entry_no)
),

shaped as (
    select
        'openapi' as provider,
        cast(10000000 + wallet_no // 4 as varchar) as account_id,
        ['USD', 'EUR', 'HKD', 'CNY'][wallet_no % 4 + 1] as currency,
        'T' || md5(wallet_no || ':' || entry_no)[:16] as transaction_id,
        case when is_income then 1 else 2 end as in_out_type,
        cast(abs(signed_cents) as decimal(18, 0)) * 0.01 as amount,
        cast(after_cents - signed_cents as decimal(18, 0)) * 0.01 as before_balance,
        cast(after_cents as decimal(18, 0)) * 0.01 as after_balance,
        timestamp '2026-11-01' + to_seconds(second_no) as transaction_time,
        timestamp '2026-11-01' + to_seconds(second_no + hash(wallet_no, entry_no, 'lag') % 3)
            as created_at,
        hash(wallet_no, entry_no, 'missing') % $missing_one_in = 0 as is_missing
    from chained
)

select
    provider,
    account_id,
    account_id || ':' || currency as wallet_key,
    currency as wallet_name,
    currency,
    transaction_id,
    in_out_type,
    amount,
    before_balance,
    after_balance,
    transaction_time,
    created_at,
    date_trunc('day', transaction_time) as _window_start,
    date_trunc('day', transaction_time) + interval 1 day as _window_end,
    'lake/provider=openapi/entity=transactions/date='
    || strftime(transaction_time, '%Y-%m-%d') || '/data.parquet' as _source_file
from shaped
where not is_missing
"""

# The floor: one sort, each entry against the one before it, both neighbours named.
NAIVE = """
select provider, account_id, wallet_key, previous_transaction_id, transaction_id,
    previous_after_balance as expected, before_balance as actual
from (
    select
        *,
        lag(transaction_id) over by_time as previous_transaction_id,
        lag(after_balance) over by_time as previous_after_balance
    from fct_ledger_entries
    window by_time as (
        partition by provider, account_id, wallet_key
        order by transaction_time, transaction_id, in_out_type
    )
)
where before_balance <> previous_after_balance
"""


def _timed(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> float:
    started = time.perf_counter()
    con.execute(f"create or replace table {table} as {sql}")
    return time.perf_counter() - started


def _measure(con: duckdb.DuckDBPyConnection, shared_one_in: int) -> None:
    con.execute(
        LEDGER,
        {
            "wallets": WALLETS,
            "entries": ENTRIES_PER_WALLET,
            "shared_one_in": shared_one_in,
            "missing_one_in": MISSING_ONE_IN,
        },
    )
    con.execute("checkpoint")
    # chain_gap is two statements: its helper finds the stretch ends, chain_gap numbers them.
    models = {
        "naive": [("bench_naive", NAIVE)],
        "chain_gap": [
            ("int_ledger__unlinked", sql_text("int_ledger__unlinked")),
            ("bench_chain_gap", sql_text("chain_gap")),
        ],
        "first": [("bench_first", REFERENCE.read_text())],
    }
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(ROUNDS):
        for name, statements in models.items():
            seconds[name].append(sum(_timed(con, table, sql) for table, sql in statements))
    differ = con.execute(
        "select count(*) from ((select * from bench_chain_gap except all select * from bench_first)"
        " union all (select * from bench_first except all select * from bench_chain_gap))"
    ).fetchone()
    # A benchmark of two different answers would compare nothing.
    assert differ == (0,), f"chain_gap and the first version disagree on {differ} rows"
    facts = con.execute(
        """
        select
            (select count(*) from fct_ledger_entries),
            (select count(*) from (
                select 1 from fct_ledger_entries
                group by provider, account_id, wallet_key, transaction_time
                having count(*) > 1
            )),
            (select count(*) from (
                select 1 from fct_ledger_entries
                qualify count(*) over (
                    partition by provider, account_id, wallet_key, transaction_time
                ) > 1
            )),
            (select count(*) from bench_chain_gap),
            (select count(*) from bench_naive)
        """
    ).fetchone()
    assert facts is not None
    entries, bursts, in_bursts, gaps, naive_gaps = facts
    print(
        f"chain_gap: {entries:,} entries, {WALLETS:,} wallets, {bursts:,} shared seconds "
        f"holding {in_bursts / entries:.1%} of the entries; {gaps} gaps "
        f"(the naive scan reports {naive_gaps:,})"
    )
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    base = medians["naive"]
    print(f"  chain_gap / naive lag() scan:      {medians['chain_gap'] / base:.1f}x")
    print(f"  first version / naive lag() scan:  {medians['first'] / base:.1f}x")
    print(
        f"  medians of {ROUNDS}: naive {base:.2f}s, chain_gap {medians['chain_gap']:.2f}s, "
        f"first version {medians['first']:.2f}s"
    )


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp,
        duckdb.connect(str(Path(tmp) / "chain.duckdb")) as con,
    ):
        _measure(con, shared_one_in=50)  # about 4% of the entries share their second
        _measure(con, shared_one_in=8)  # bursty: about 24%
    return 0


if __name__ == "__main__":
    sys.exit(main())
