"""Models kept up to date by key: a night re-derives what its loads changed, not the history.

The big models (the windowed staging tables, the unified ledger, the exchange pairs and the
order debits) are partitioned by a *unit*: every row of the model for one unit is computed from
the input rows of that unit only (a staging row from its raw row, a ledger row from its staged
entry, an exchange from the legs sharing its transaction id, an order's debits from the order
and the entries whose record_id names it). So when loads change some input rows, rebuilding
only the units those rows belong to, before and after the change, gives the same table as a
rebuild of everything (reconciliation.md §5). `tests/store/test_maintain.py` holds them to it.

How a load's changes reach the models: every windowed raw table has a `<raw>_changes` table
into which `duck.upsert_parquet` writes the new version of every row it writes and the old
version of every row it replaces, in the load's own transaction. Staging reads those rows,
the recon step derives their staged shape (the staging SQL over them) for the models further
down, and the recon step empties them in the transaction that folds the breaks: a run that
fails before that leaves them for the next one, and re-applying a change is harmless.

A model is maintained only while its table was built by this code from the same SQL text
(`recon_models` records the text's hash at each full build); anything else (a new warehouse,
a changed model, `recon run --full`) rebuilds it whole, and with it every maintained model
that reads it.

No Dagster here: the staging assets and the recon step call it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from store import duck
from store.datasets import DATASETS

# The full build of each maintained model: which SQL text it was built from, and when.
MODELS_TABLE = "recon_models"


def changes_table(raw_table: str) -> str:
    return f"{raw_table}_changes"


@dataclass(frozen=True)
class Maintained:
    model: str
    # The model's columns that name a unit.
    unit: tuple[str, ...]
    # Each input table, with its columns that name the same unit, in the same order.
    inputs: Mapping[str, tuple[str, ...]]


def _staging(raw_table: str, model: str, key: Sequence[str], unit: Sequence[str]) -> Maintained:
    # A staging model renames and casts one raw row into one staged row.
    return Maintained(model, tuple(unit), {raw_table: tuple(key)})


_WINDOWED = {ds.raw_table: ds for ds in DATASETS if ds.windowed}
# Staged names of the raw key columns (JT's app_id is staged as account_id).
_STAGED_KEY = {"raw_jt__balance_records": ("account_id", "balance_ref_no")}

STAGING: tuple[Maintained, ...] = tuple(
    _staging(
        ds.raw_table,
        ds.staging_model,
        ds.table_key(),
        _STAGED_KEY.get(ds.raw_table, ds.table_key()),
    )
    for ds in _WINDOWED.values()
)

TRANSACTION = ("provider", "account_id", "transaction_id")
RECON: tuple[Maintained, ...] = (
    Maintained(
        "fct_ledger_entries",
        TRANSACTION,
        {
            "stg_openapi__transactions": TRANSACTION,
            "stg_jt__balance_records": ("provider", "account_id", "balance_ref_no"),
        },
    ),
    Maintained("int_exchanges__paired", TRANSACTION, {"stg_openapi__transactions": TRANSACTION}),
    Maintained(
        "int_orders__debits",
        ("provider", "account_id", "order_id"),
        {
            "stg_openapi__orders": ("provider", "account_id", "order_id"),
            "stg_openapi__transactions": ("provider", "account_id", "record_id"),
        },
    ),
    # A card movement is an order or a trade: an order id that is also a trade id only
    # re-derives both.
    Maintained(
        "int_cards__movements",
        ("provider", "account_id", "movement_id"),
        {
            "stg_openapi__orders": ("provider", "account_id", "order_id"),
            "stg_openapi__card_trades": ("provider", "account_id", "trade_id"),
        },
    ),
)
MAINTAINED: dict[str, Maintained] = {m.model: m for m in (*STAGING, *RECON)}


def _sql_hash(model: str) -> str:
    return hashlib.sha256(duck.sql_text(model).encode()).hexdigest()[:16]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"create table if not exists {MODELS_TABLE} "
        "(model varchar primary key, sql_hash varchar, built_at timestamp)"
    )


def is_maintainable(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    """Whether `model`'s table was fully built by this code from its current SQL."""
    ensure_tables(con)
    row = con.execute(f"select sql_hash from {MODELS_TABLE} where model = ?", [model]).fetchone()
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = ?",
        [model],
    ).fetchone()
    return bool(row and row[0] == _sql_hash(model) and exists and exists[0])


def readers(model: str) -> list[str]:
    """The maintained models that read `model`, directly or further down."""
    found: list[str] = []
    for m in MAINTAINED.values():
        if model in m.inputs and m.model not in found:
            found += [m.model, *(r for r in readers(m.model) if r not in found)]
    return found


def build_whole(con: duckdb.DuckDBPyConnection, model: str, now: datetime) -> int:
    """Rebuild a maintained model from all its input, and record it; every maintained model
    that reads it must then be rebuilt whole too, since what changed in it is unknown."""
    ensure_tables(con)
    rows = duck.build_model(con, model)
    stale = [model, *readers(model)]
    con.execute(f"delete from {MODELS_TABLE} where list_contains(?, model)", [stale])
    con.execute(f"insert into {MODELS_TABLE} values (?, ?, ?)", [model, _sql_hash(model), now])
    return rows


def _database(con: duckdb.DuckDBPyConnection) -> str:
    """The connection's own database, quoted for a qualified name (a database is named after
    its file, which may hold any character)."""
    return '"' + duck.current_database(con).replace('"', '""') + '"'


@contextmanager
def _shadowed(con: duckdb.DuckDBPyConnection, views: Mapping[str, str]) -> Iterator[None]:
    """Temporary views named like tables, which a model's SQL then reads instead of them
    (DuckDB resolves a name to the temporary schema first). Each view's SQL may read the
    table it hides by its qualified name `<database>.main.<table>`."""
    for name, sql in views.items():
        con.execute(f"create or replace temp view {name} as {sql}")
    try:
        yield
    finally:
        for name in views:
            con.execute(f"drop view if exists temp.main.{name}")


def join_on(left: str, left_cols: Sequence[str], right: str, right_cols: Sequence[str]) -> str:
    """`left.a = right.b and ...`, column by column (names from code, quoted)."""
    return " and ".join(
        f'{left}."{a}" = {right}."{b}"' for a, b in zip(left_cols, right_cols, strict=True)
    )


def _changed_rows(con: duckdb.DuckDBPyConnection, raw: str, since: datetime | None) -> str:
    """SQL for a raw table's changed rows: those no reconciliation consumed yet (`since`
    None), or those consumed after `since` (what a snapshot published then lacks)."""
    table = f"{_database(con)}.main.{changes_table(raw)}"
    # The time is ours (a run's), written as a literal: a view takes no parameters.
    which = (
        "_consumed_at is null"
        if since is None
        else f"_consumed_at > timestamp '{since.isoformat(sep=' ')}'"
    )
    return f"select * exclude (_consumed_at) from {table} where {which}"


def raw_deltas(con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> dict[str, str]:
    """Each windowed raw table's changed rows, old and new versions, as temporary views
    `_delta_<raw>` (see `_changed_rows` for `since`)."""
    out: dict[str, str] = {}
    for raw in _WINDOWED:
        con.execute(f"create or replace temp view _delta_{raw} as {_changed_rows(con, raw, since)}")
        out[raw] = f"_delta_{raw}"
    return out


def staged_deltas(con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> dict[str, str]:
    """The changed rows of each maintained staging model, old and new versions, in staged
    shape: the staging SQL over the raw changes. Temporary tables named `_delta_<model>`."""
    out: dict[str, str] = {}
    for m in STAGING:
        (raw,) = m.inputs
        delta = f"_delta_{m.model}"
        with _shadowed(con, {raw: _changed_rows(con, raw, since)}):
            con.execute(f"create or replace temp table {delta} as {duck.sql_text(m.model)}")
        out[m.model] = delta
    return out


def _q(column: str) -> str:
    return f'"{column}"'


def maintain(con: duckdb.DuckDBPyConnection, model: str, deltas: Mapping[str, str]) -> int:
    """Re-derive the units of `model` that its inputs' changed rows (`deltas`: input table ->
    table of its changed rows, old and new versions) belong to. Returns the rows written."""
    m = MAINTAINED[model]
    if not units(con, model, deltas):
        return 0
    db = _database(con)
    unit_rows = join_on(m.model, m.unit, "_units", m.unit)
    con.execute(f"delete from {m.model} using _units where {unit_rows}")
    views = {
        name: (
            f"select i.* from {db}.main.{name} as i semi join _units "
            f"on {join_on('i', cols, '_units', m.unit)}"
        )
        for name, cols in m.inputs.items()
    }
    with _shadowed(con, views):
        con.execute(f"create or replace temp table _rederived as {duck.sql_text(m.model)}")
    con.execute(f"insert into {m.model} by name select * from _rederived")
    row = con.execute("select count(*) from _rederived").fetchone()
    con.execute("drop table _rederived")
    return int(row[0]) if row else 0


def units(con: duckdb.DuckDBPyConnection, model: str, deltas: Mapping[str, str]) -> bool:
    """The units of `model` that its inputs' changed rows belong to, as the temporary table
    `_units` (named by the model's unit columns). False when no input has changes."""
    m = MAINTAINED[model]
    parts = [
        "select "
        + ", ".join(f"d.{_q(c)} as {_q(u)}" for c, u in zip(cols, m.unit, strict=True))
        + f" from {delta} as d where "
        + " and ".join(f"d.{_q(c)} is not null" for c in cols)
        for name, cols in m.inputs.items()
        if (delta := deltas.get(name)) is not None
    ]
    if not parts:
        return False
    con.execute(
        "create or replace temp table _units as select distinct * from ("
        + " union all ".join(parts)
        + ")"
    )
    return True


def refresh(
    con: duckdb.DuckDBPyConnection, model: str, full: bool, now: datetime
) -> tuple[str, int]:
    """Bring a staging model up to date, in one transaction: a windowed dataset's re-derives
    the rows its loads changed; a snapshot's is rebuilt (its history is small), as is any
    model on `full` or not built by this code from its current SQL. Returns how, and the
    rows written."""
    con.begin()
    try:
        if model not in MAINTAINED:
            how, written = "rebuilt", duck.build_model(con, model)
        elif full or not is_maintainable(con, model):
            how, written = "rebuilt whole", build_whole(con, model, now)
        else:
            deltas = raw_deltas(con)
            how, written = "changed rows re-derived", maintain(con, model, deltas)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return how, written


# How long consumed changes are kept: a published snapshot slot whose run is newer than every
# change dropped since is brought up to date from them instead of built whole (store.publish).
KEEP_CHANGES = timedelta(days=7)
# The newest consumption time of the changes dropped so far (one row; null: none dropped).
CHANGES_PRUNED = "recon_changes_pruned"
# The tables only the pipeline reads, the change log and the bookkeeping of what was built
# from it: the published snapshot leaves them out (store.publish).
PIPELINE_ONLY = frozenset(
    {MODELS_TABLE, CHANGES_PRUNED, *(changes_table(raw) for raw in _WINDOWED)}
)


def consume_changes(con: duckdb.DuckDBPyConnection, run_at: datetime) -> None:
    """The changes are folded into the models by the run at `run_at`: the next run re-derives
    from here. They are kept a while, marked with that run, for publishing; older ones go,
    and the table says up to when. Nothing here depends on the run otherwise, so loading the
    same data twice leaves every table as it was."""
    con.execute(f"create table if not exists {CHANGES_PRUNED} (pruned_through timestamp)")
    if con.execute(f"select count(*) from {CHANGES_PRUNED}").fetchone() == (0,):
        con.execute(f"insert into {CHANGES_PRUNED} values (null)")
    cutoff = run_at - KEEP_CHANGES
    for raw in _WINDOWED:
        table = changes_table(raw)
        con.execute(f"update {table} set _consumed_at = ? where _consumed_at is null", [run_at])
        con.execute(
            f"update {CHANGES_PRUNED} set pruned_through = greatest(pruned_through, "
            f"(select max(_consumed_at) from {table} where _consumed_at < ?))",
            [cutoff],
        )
        con.execute(f"delete from {table} where _consumed_at < ?", [cutoff])


def changes_known_since(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
    """The change log holds no change from before `at`: a working file rebuilt from the
    snapshot of the run at `at` starts with an empty log (store.warehouse)."""
    con.execute(f"create or replace table {CHANGES_PRUNED} (pruned_through timestamp)")
    con.execute(f"insert into {CHANGES_PRUNED} values (?)", [at])


def changes_pruned_through(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """Up to when consumed changes were dropped (None: none ever were)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where table_name = ? "
        "and database_name = current_database()",
        [CHANGES_PRUNED],
    ).fetchone()
    if not found or not found[0]:
        return None
    row = con.execute(f"select max(pruned_through) from {CHANGES_PRUNED}").fetchone()
    return row[0] if row else None
