"""DuckDB access for the warehouse layer: typed tables from Arrow schemas, idempotent loads.

Loads go by key and write only new or changed rows, so loading the same window twice, or a
window that overlaps an earlier one, leaves one row per key and an unchanged table. Values
are bound as parameters, never interpolated; table and column names come from code, never
from provider data.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

# The storage format of every warehouse file the pipeline writes, named by the oldest DuckDB
# release that reads it. Analysts open the published snapshot with DuckDB 1.4 LTS and later
# (CLI, JDBC and ODBC drivers), while the pipeline runs a newer DuckDB whose default format
# those cannot read. A file keeps the format it was created with; `store.warehouse` migrates
# a working file in another one. docs/analyst-guide.md names this version.
STORAGE_VERSION = "v1.4.0"


def connect_file(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse file, opened for writing; one this creates is in STORAGE_VERSION."""
    return duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_VERSION})


def current_database(con: duckdb.DuckDBPyConnection) -> str:
    """The name of the connection's own database (DuckDB names it after its file)."""
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def storage_version(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """The storage format of an attached database file (default: the connection's own), as
    the oldest DuckDB release that reads it, e.g. "v1.4.0"."""
    row = con.execute(
        "select tags['storage_version'] from duckdb_databases() "
        "where database_name = coalesce(?, current_database())",
        [database],
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"database {database or '(current)'} has no storage version")
    # DuckDB says "v1.4.0+": that release and every later one.
    return str(row[0]).removesuffix("+")


# What two attached databases must share to hold the same warehouse, besides every row.
_CATALOG = {
    "tables": "select table_name, comment from duckdb_tables() where database_name = ?",
    "columns": (
        "select table_name, column_index, column_name, data_type, comment "
        "from duckdb_columns() where database_name = ?"
    ),
    "keys": (
        "select table_name, constraint_type, constraint_text "
        "from duckdb_constraints() where database_name = ?"
    ),
    "views": "select view_name, sql from duckdb_views() where database_name = ? and not internal",
}


def differences(
    con: duckdb.DuckDBPyConnection,
    a: str,
    b: str,
    *,
    leave_out: Collection[str] = (),
    keys: bool = True,
) -> list[str]:
    """How attached databases `a` and `b` differ: tables, columns, keys, views and comments,
    then every table's rows (as multisets). Empty when they hold the same warehouse. Tables
    in `leave_out` are not compared; without `keys`, neither are primary keys and UNIQUEs
    (a published snapshot has none)."""
    found: list[str] = []

    def catalog(what: str, db: str) -> list[str]:
        rows = con.execute(_CATALOG[what], [db]).fetchall()
        kept = [r for r in rows if r[0] not in leave_out]
        if what == "keys" and not keys:
            kept = [r for r in kept if r[1] not in ("PRIMARY KEY", "UNIQUE")]
        return sorted(map(str, kept))

    for what in _CATALOG:
        if catalog(what, a) != catalog(what, b):
            found.append(f"{what} differ")
    if found:
        return found
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = ? order by 1", [a]
    ).fetchall():
        if table in leave_out:
            continue
        # Names come from the catalogue; equal counts and nothing of `a` missing from `b`
        # make the two multisets of rows equal.
        row = con.execute(
            f'select (select count(*) from {a}."{table}") = (select count(*) from {b}."{table}"), '
            f'(select count(*) from (from {a}."{table}" except all from {b}."{table}"))'
        ).fetchone()
        if row is None or not row[0] or row[1]:
            found.append(f"rows of {table} differ")
    return found


def duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_string(t):
        return "VARCHAR"
    raise TypeError(f"no DuckDB type for {t}")


def ensure_table(
    con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, key: Sequence[str]
) -> None:
    columns = ", ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in schema)
    if key:
        columns += ", primary key (" + ", ".join(f'"{k}"' for k in key) + ")"
    con.execute(f"create table if not exists {table} ({columns})")


LINEAGE = ("_fetched_at", "_source_file")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"describe {table}").fetchall()]


def upsert_parquet(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    key: Sequence[str],
    history: str | None = None,
    source: str | None = None,
    changes: str | None = None,
) -> int:
    """Load a landed file by key, writing only rows that are new or whose content changed.

    Unchanged rows keep their lineage (`_fetched_at`, `_source_file`), so loading the same
    data twice leaves the table identical. With `history`, every row about to be replaced is
    first copied there (with `_replaced_at`): a provider that changes a booked entry leaves a
    trace the checks can see. `source` names the file in lineage when `path` is a local copy
    of it (a lake in a bucket). With `changes`, the old and the new version of every row
    written go there too, for the models maintained by key (store.maintain) to re-derive.
    Returns the number of rows written.
    """
    content = [c for c in _columns(con, table) if c not in LINEAGE]
    on = " and ".join(f'n."{k}" = o."{k}"' for k in key)
    changed = " or ".join(f'n."{c}" is distinct from o."{c}"' for c in content)
    con.execute(
        "create or replace temp table _changed as select n.* from "
        "(select *, ?::varchar as _source_file from read_parquet(?, hive_partitioning = false)) n "
        f"left join {table} o on {on} "
        f'where o."{key[0]}" is null or {changed}',
        [source or str(path), str(path)],
    )
    if history is not None:
        con.execute(
            f"insert into {history} by name "
            f"select o.*, (now() at time zone 'UTC') as _replaced_at "
            f"from {table} o semi join _changed n on {on}"
        )
    if changes is not None:
        con.execute(
            f"insert into {changes} by name select o.* from {table} o semi join _changed n on {on}"
        )
        con.execute(f"insert into {changes} by name select * from _changed")
    con.execute(f"insert or replace into {table} by name select * from _changed")
    written = con.execute("select count(*) from _changed").fetchone()
    con.execute("drop table _changed")
    return int(written[0]) if written else 0


def insert_parquet(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, source: str | None = None
) -> int:
    con.execute(
        f"insert into {table} by name select *, ?::varchar as _source_file "
        f"from read_parquet(?, hive_partitioning = false)",
        [source or str(path), str(path)],
    )
    row = con.execute(
        "select count(*) from read_parquet(?, hive_partitioning = false)", [str(path)]
    ).fetchone()
    return int(row[0]) if row else 0


def replace_quarantine(
    con: duckdb.DuckDBPyConnection, path: Path, landed: bool, source: str | None = None
) -> int:
    """Quarantine rows of one window (its file `path`, named `source` in lineage when `path`
    is a local copy) are replaced whole: a row fixed upstream leaves it. When the window
    refuses exactly the same rows as last time, or nothing landed (`landed` false), nothing
    is touched or the old rows go.
    """
    where = "_source_file = ?"
    params = [source or str(path)]
    if landed:
        same = con.execute(
            f"""
            select count(*) = 0 from (
                (select row_key, reason, raw from quarantine where {where}
                 except all
                 select row_key, reason, raw from read_parquet(?, hive_partitioning = false))
                union all
                (select row_key, reason, raw from read_parquet(?, hive_partitioning = false)
                 except all
                 select row_key, reason, raw from quarantine where {where})
            )
            """,
            [*params, str(path), str(path), *params],
        ).fetchone()
        if same and same[0]:
            row = con.execute(f"select count(*) from quarantine where {where}", params).fetchone()
            return int(row[0]) if row else 0
    con.execute(f"delete from quarantine where {where}", params)
    if not landed:
        return 0
    return insert_parquet(con, "quarantine", path, source)


def sql_text(model: str) -> str:
    """The SQL of a model by its name, from sql/<layer>/<name>.sql."""
    matches = list(SQL_DIR.glob(f"*/{model}.sql"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one sql/*/{model}.sql, found {len(matches)}")
    return matches[0].read_text()


def build_model(con: duckdb.DuckDBPyConnection, model: str) -> int:
    """Rebuild a SQL model as a table named after its file; returns its row count."""
    con.execute(f"create or replace table {model} as {sql_text(model)}")
    row = con.execute(f"select count(*) from {model}").fetchone()
    return int(row[0]) if row else 0


def same_as_latest_snapshot(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> bool:
    """Whether a landed snapshot holds exactly the rows of the newest loaded one."""
    content = [c for c in _columns(con, table) if c not in (*LINEAGE, "_snapshot_at")]
    cols = ", ".join(f'"{c}"' for c in content)
    latest = (
        f"select {cols} from {table} where _snapshot_at = (select max(_snapshot_at) from {table})"
    )
    incoming = f"select {cols} from read_parquet(?, hive_partitioning = false)"
    row = con.execute(
        f"select count(*) = 0 from (({latest} except all {incoming}) "
        f"union all ({incoming} except all {latest}))",
        [str(path), str(path)],
    ).fetchone()
    has_rows = con.execute(f"select count(*) > 0 from {table}").fetchone()
    return bool(row and row[0] and has_rows and has_rows[0])


def tables_read(model: str) -> set[str]:
    """The tables a model's SQL reads, as DuckDB's own parser sees the statement (names of
    its CTEs are not tables). Parsing binds nothing, so no table has to exist."""
    with duckdb.connect() as con:
        row = con.execute("select json_serialize_sql(?)", [sql_text(model)]).fetchone()
    tree = json.loads(row[0]) if row else {}
    if tree.get("error"):
        raise ValueError(f"sql for {model} does not parse: {tree.get('error_message')}")
    tables: set[str] = set()
    ctes: set[str] = set()
    _walk(tree, tables, ctes)
    return tables - ctes


def _walk(node: object, tables: set[str], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and "table_name" in node:
            tables.add(str(node["table_name"]))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(entry["key"]) for entry in cte_map.get("map", []))
        for value in node.values():
            _walk(value, tables, ctes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, tables, ctes)
