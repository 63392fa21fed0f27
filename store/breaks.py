"""The reconciliation checks and the break lifecycle, as plain functions over DuckDB.

Each check is one SQL model in `sql/recon/<check_name>.sql` that returns its offending rows;
`int_breaks__found` gathers them and `fct_breaks` keeps their history across runs
(reconciliation.md §2-3). The catalogue below is the one place a check's severity is stated:
it is written to the `recon_checks` table the SQL reads, and it sets the Dagster check's
severity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from store import duck, maintain


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # "error" or "warn"
    entity_type: str
    rule: str
    # What `difference` measures: "money" (major units), "minor" (cents) or "rate".
    difference_unit: str = "money"


CHECKS: tuple[Check, ...] = (
    Check(
        "entry_arithmetic",
        "error",
        "entry",
        "after_balance - before_balance equals +amount (income) or -amount (expense)",
    ),
    Check(
        "chain_gap",
        "error",
        "wallet",
        "each entry's before_balance equals the after_balance of the entry before it",
    ),
    Check(
        "duplicate_entry",
        "error",
        "entry",
        "no movement is booked twice, no entry key is redelivered with other amounts",
    ),
    Check(
        "wallet_balance_mismatch",
        "error",
        "wallet",
        "the reported available_balance equals the chain's balance at the snapshot",
    ),
    Check(
        "fx_missing_leg",
        "error",
        "exchange",
        "an exchange has exactly one expense and one income leg, in two currencies",
    ),
    Check(
        "fx_amount_mismatch",
        "error",
        "exchange",
        "bought amount = round_half_up(sold amount x applied rate, 2) within tolerance",
    ),
    Check(
        "fx_rate_deviation",
        "warn",
        "exchange",
        "applied rate within the tolerance (bps) of the nearest reference rate snapshot",
        "rate",
    ),
    Check(
        "order_debit_missing",
        "error",
        "order",
        "a successful card order has its wallet entry (record_id = order_id)",
    ),
    Check(
        "order_debit_mismatch",
        "error",
        "order",
        "that entry moves the order's total_amount; failed orders move nothing",
    ),
    Check(
        "card_balance_mismatch",
        "error",
        "card",
        "card balance = orders' principal + trade effects - closure refunds; "
        "limit = orders' principal",
    ),
    Check(
        "refund_exceeds_origin",
        "error",
        "trade",
        "successful refunds and reversals of one purchase (origin_trade_id) add up to at most "
        "that purchase",
    ),
    Check(
        "refund_without_origin",
        "warn",
        "trade",
        "a successful refund or reversal names its purchase (origin_trade_id): loaded, and "
        "a purchase or fee that succeeded",
    ),
    Check(
        "payment_fee_mismatch",
        "error",
        "entry",
        "a payment's (5010) amount = pay_out_amount + fee_detail.fee of its attach",
    ),
    Check(
        "payment_return_missing",
        "error",
        "entry",
        "a rejected payment is returned in full by 5020 rows of its record_id; no payment is "
        "returned more than it took",
    ),
    Check(
        "closed_card_balance",
        "error",
        "card",
        "a closed card (status 5) reports balance 0, and its closure refund returns what it "
        "held when it closed",
    ),
    Check(
        "wallet_freeze_mismatch",
        "warn",
        "wallet",
        "a wallet's ledger does not move between two readings that both report it frozen "
        "(status 2); freeze_balance is not negative",
    ),
    Check(
        "transfer_unmatched",
        "error",
        "transfer",
        "a transfer between providers that left one has arrived at the other (and an arrival "
        "has its departure), matched by reference, after the grace period",
    ),
    Check(
        "transfer_amount_mismatch",
        "error",
        "transfer",
        "a transfer's arrival = its departure less at most the fee the departure states, in "
        "the same currency",
    ),
    Check(
        "jt_balance_composition",
        "error",
        "user",
        "a JT user's balance = baseBalance + codBalance; each total = the sum over the users",
    ),
    Check(
        "money_unit_mismatch",
        "error",
        "money",
        "a Whalet money object's cent = amount x centFactor",
        "minor",
    ),
    Check(
        "whalet_platform_mismatch",
        "error",
        "platform",
        "the Whalet platform balance = the sum of its users' balances per fund source and "
        "currency (only when WHALET_USER_IDS names every user: WHALET_USER_IDS_COMPLETE)",
    ),
    Check(
        "incomplete_window",
        "error",
        "window",
        "rows stored for a landed day window (plus rows refused) equal the API's total for it",
        "rows",
    ),
    Check(
        "stale_source",
        "error",
        "account",
        "a ledger's newest closed day has rows if earlier days had, and its newest entry is "
        "within the staleness limit of that day's end",
        "hours",
    ),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)

# Built in this order: the unified ledger, helpers, every check, then the union and the history.
LEDGER = "fct_ledger_entries"
HELPERS = (
    "int_ledger__unlinked",
    "int_wallets__reported",
    "int_ledger__grace",
    "int_exchanges__paired",
    "int_orders__debits",
    "int_cards__movements",
    "int_transfers__paired",
)
MODELS: tuple[str, ...] = (LEDGER, *HELPERS, *CHECK_NAMES, "int_breaks__found")
BREAKS = "fct_breaks"
# The count of breaks per check after every run, kept across runs like the breaks themselves.
BREAK_COUNTS = "fct_break_counts"
# Every change of every break, run by run (and, with the triage app, by people).
BREAK_EVENTS = "fct_break_events"
# The tables that carry history from run to run (the rest are rebuilt every run).
HISTORY = (BREAKS, BREAK_COUNTS, BREAK_EVENTS)
# Marts built from the same staged data after the breaks, for analysts.
# fct_coverage reads the checks' own tables (stretch ends, fx_amount_mismatch,
# incomplete_window), so it is built after them, whole every run.
MARTS: tuple[str, ...] = ("fct_card_activity", "fct_coverage")
STATUSES = ("open", "pending", "resolved")
# The analysts' workflow state of each break (store.break_workflow writes it after the fold).
# The history has these columns from its first run, so the fold gives `fct_breaks` the same
# columns in the same order every run (a published snapshot slot keeps its shape).
WORKFLOW_COLUMNS = ("owner", "workflow_status", "reason_code", "note")
# Written by `reconcile` itself before the models, for them to read (and analysts to see).
CHECKS_TABLE = "recon_checks"
SETTINGS_TABLE = "recon_settings"
CATALOGUE = (CHECKS_TABLE, SETTINGS_TABLE)


@dataclass(frozen=True)
class Settings:
    """Tolerances and the grace period (reconciliation.md §2), per currency where it matters."""

    grace_seconds: int = 3600
    fx_amount_tolerance: Decimal = Decimal("0.01")
    fx_rate_tolerance_bps: Decimal = Decimal("50")
    fx_amount_tolerance_by_currency: tuple[tuple[str, Decimal], ...] = ()
    fx_rate_tolerance_bps_by_currency: tuple[tuple[str, Decimal], ...] = ()
    # How old a ledger's newest entry may be at the end of its newest closed day (stale_source).
    stale_hours: Decimal = Decimal("36")
    # Whether the configured Whalet users are all of the platform's (whalet_platform_mismatch
    # can tell nothing otherwise); the Whalet resource owns it (WHALET_USER_IDS_COMPLETE).
    whalet_users_complete: bool = False

    def rows(self) -> list[tuple[str, str | None, Decimal]]:
        out: list[tuple[str, str | None, Decimal]] = [
            ("grace_seconds", None, Decimal(self.grace_seconds)),
            ("whalet_users_complete", None, Decimal(int(self.whalet_users_complete))),
            ("stale_hours", None, self.stale_hours),
            ("fx_amount_tolerance", None, self.fx_amount_tolerance),
            ("fx_rate_tolerance_bps", None, self.fx_rate_tolerance_bps),
        ]
        out += [("fx_amount_tolerance", c, v) for c, v in self.fx_amount_tolerance_by_currency]
        out += [("fx_rate_tolerance_bps", c, v) for c, v in self.fx_rate_tolerance_bps_by_currency]
        return out


def parse_tolerance(text: str, name: str) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
    """`0.01` or `0.01,JPY:1,KRW:10`: a default, then per-currency values."""
    default: Decimal | None = None
    per_currency: list[tuple[str, Decimal]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        currency, _, value = part.rpartition(":")
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"{name}: {value!r} is not a number") from None
        if not number.is_finite() or number < 0:
            raise ValueError(f"{name}: {value!r} must be a non-negative number")
        if currency:
            per_currency.append((currency.upper(), number))
        else:
            default = number
    if default is None:
        raise ValueError(f"{name}: give a default value, e.g. '0.01' or '0.01,JPY:1'")
    return default, tuple(per_currency)


def write_catalogue(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The check catalogue and the settings, as tables the models read (and analysts see)."""
    con.execute(
        f"create or replace table {CHECKS_TABLE} "
        "(check_name varchar primary key, severity varchar, entity_type varchar, rule varchar, "
        "difference_unit varchar)"
    )
    con.executemany(
        f"insert into {CHECKS_TABLE} values (?, ?, ?, ?, ?)",
        [(c.name, c.severity, c.entity_type, c.rule, c.difference_unit) for c in CHECKS],
    )
    con.execute(
        f"create or replace table {SETTINGS_TABLE} "
        "(setting varchar, currency varchar, value decimal(38, 8))"
    )
    con.executemany(f"insert into {SETTINGS_TABLE} values (?, ?, ?)", settings.rows())


def _ensure_breaks(con: duckdb.DuckDBPyConnection) -> None:
    """The first run starts from an empty history shaped like the findings plus lifecycle."""
    con.execute(
        f"""
        create table if not exists {BREAKS} as
        select
            * exclude (is_pending),
            cast(null as varchar) as status,
            cast(null as timestamp) as first_seen_at,
            cast(null as timestamp) as last_seen_at,
            cast(null as timestamp) as opened_at,
            cast(null as timestamp) as resolved_at,
            cast(null as integer) as opened_count,
            cast(null as bigint) as age_days
        from int_breaks__found
        limit 0
        """
    )
    # Warehouses from before break events: a break that has an opening was opened once.
    con.execute(f"alter table {BREAKS} add column if not exists opened_count integer")
    con.execute(
        f"update {BREAKS} set opened_count = case when opened_at is null then 0 else 1 end "
        "where opened_count is null"
    )
    con.execute(f"alter table {BREAKS} add column if not exists age_days bigint")
    for column in WORKFLOW_COLUMNS:
        con.execute(f"alter table {BREAKS} add column if not exists {column} varchar")
    con.execute(
        f"create table if not exists {BREAK_EVENTS} (break_id varchar, event_at timestamp, "
        "event varchar, status varchar, expected decimal(38, 8), actual decimal(38, 8), "
        "difference decimal(38, 8), detail varchar, actor varchar)"
    )
    con.execute(
        f"create table if not exists {BREAK_COUNTS} (run_at timestamp, check_name varchar, "
        "severity varchar, open_breaks bigint, pending_breaks bigint, resolved_breaks bigint, "
        "opened_in_run bigint, resolved_in_run bigint)"
    )


def reconcile(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_at: datetime, full: bool = False
) -> dict[str, int]:
    """Build every check model and fold this run's findings into `fct_breaks`.

    The big models (the ledger, exchange pairs, order debits) re-derive only what the run's
    loads changed (store.maintain), unless `full` or never built by this code; the checks
    then run over them. One transaction: readers of the warehouse see the breaks of the
    previous run or of this one, never a mix, and the loads' changes are consumed only with
    them. Returns the row count of each model.
    """
    counts: dict[str, int] = {}
    con.begin()
    try:
        write_catalogue(con, settings)
        deltas: dict[str, str] | None = None
        for model in MODELS:
            if model not in maintain.MAINTAINED:
                counts[model] = duck.build_model(con, model)
                continue
            if full or not maintain.is_maintainable(con, model):
                counts[model] = maintain.build_whole(con, model, run_at)
                continue
            if deltas is None:
                deltas = maintain.staged_deltas(con)
            maintain.maintain(con, model, deltas)
            row = con.execute(f"select count(*) from {model}").fetchone()
            counts[model] = int(row[0]) if row else 0
        _ensure_breaks(con)
        con.execute(
            f"create or replace table {BREAKS} as {duck.sql_text(BREAKS)}", {"run_at": run_at}
        )
        row = con.execute(f"select count(*) from {BREAKS}").fetchone()
        counts[BREAKS] = int(row[0]) if row else 0
        con.execute(
            f"create or replace table {BREAK_COUNTS} as {duck.sql_text(BREAK_COUNTS)}",
            {"run_at": run_at},
        )
        row = con.execute(f"select count(*) from {BREAK_COUNTS}").fetchone()
        counts[BREAK_COUNTS] = int(row[0]) if row else 0
        con.execute(
            f"create or replace table {BREAK_EVENTS} as {duck.sql_text(BREAK_EVENTS)}",
            {"run_at": run_at},
        )
        row = con.execute(f"select count(*) from {BREAK_EVENTS}").fetchone()
        counts[BREAK_EVENTS] = int(row[0]) if row else 0
        for mart in MARTS:
            counts[mart] = duck.build_model(con, mart)
        maintain.consume_changes(con, run_at)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return counts


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    # Open breaks nobody explained for the numbers they have now.
    open: int
    pending: int
    sample: list[dict[str, Any]]
    # Why the check could not judge this run's data, when it could not (no finding then).
    note: str | None = None
    # Open breaks an analyst explained, for numbers that still hold (reconciliation.md §3:
    # not counted as open, as for alerts and --fail-on-breaks).
    explained: int = 0

    @property
    def passed(self) -> bool:
        return self.open == 0


def outcome(
    con: duckdb.DuckDBPyConnection,
    check: Check,
    sample_size: int = 5,
    note: str | None = None,
) -> CheckOutcome:
    """Open (unexplained), explained and pending breaks of one check after this run, with a
    few of the open ones."""
    unexplained = "workflow_status is distinct from 'explained'"
    row = con.execute(
        f"select count(*) filter (where status = 'open' and {unexplained}), "
        f"count(*) filter (where status = 'pending'), "
        f"count(*) filter (where status = 'open' and not ({unexplained})) "
        f"from {BREAKS} where check_name = ?",
        [check.name],
    ).fetchone()
    cursor = con.execute(
        f"select break_id, account_id, entity_id, transaction_id, currency, expected, actual, "
        f"difference, detail from {BREAKS} where check_name = ? and status = 'open' "
        f"and {unexplained} order by abs(difference) desc nulls last, break_id limit ?",
        [check.name, sample_size],
    )
    names = [d[0] for d in cursor.description or []]
    sample = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    opened, pending, explained = (int(v) for v in row) if row else (0, 0, 0)
    return CheckOutcome(check, opened, pending, sample, note, explained)


def cannot_tell(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, str]:
    """Checks that had data to judge but could not, each with why (their result says so,
    since their silence would otherwise read as a pass)."""
    notes: dict[str, str] = {}
    platform = con.execute("select count(*) from stg_whalet__platform_balances").fetchone()
    if not (platform and platform[0]):
        return notes
    users = con.execute("select count(*) from stg_whalet__balances").fetchone()
    if not settings.whalet_users_complete:
        notes["whalet_platform_mismatch"] = (
            "cannot tell: the platform balance is compared with its users' only when "
            "WHALET_USER_IDS names every user of the platform (WHALET_USER_IDS_COMPLETE=true)"
        )
    elif not (users and users[0]):
        notes["whalet_platform_mismatch"] = (
            "cannot tell: no user balances were read (WHALET_USER_IDS is empty)"
        )
    return notes


def open_error_breaks(con: duckdb.DuckDBPyConnection) -> int:
    """Open error breaks nobody has explained (an explanation lapses when the numbers change,
    store.break_workflow)."""
    row = con.execute(
        f"select count(*) from {BREAKS} where status = 'open' and severity = 'error' "
        "and workflow_status is distinct from 'explained'"
    ).fetchone()
    return int(row[0]) if row else 0


def list_breaks(
    con: duckdb.DuckDBPyConnection,
    statuses: Sequence[str] = ("open", "pending"),
    check: str | None = None,
    provider: str | None = None,
) -> list[dict[str, Any]]:
    cursor = con.execute(
        f"""
        select * from {BREAKS}
        where list_contains(?, status)
            and (? is null or check_name = ?)
            and (? is null or provider = ?)
        order by check_name, provider, account_id, first_seen_at, entity_id, break_id
        """,
        [list(statuses), check, check, provider, provider],
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
