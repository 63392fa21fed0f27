"""DuckDB access for the warehouse layer: typed tables from Arrow schemas, idempotent loads.

Loads go by key (`INSERT OR REPLACE`), so loading the same window twice, or a window that
overlaps an earlier one, leaves one row per key. Values are bound as parameters, never
interpolated; table and column names come from code, never from provider data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


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


def upsert_parquet(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, replace: bool = True
) -> int:
    """Load a landed file (by key when `replace`); every row keeps its source file for lineage."""
    verb = "insert or replace" if replace else "insert"
    con.execute(
        f"{verb} into {table} by name "
        "select *, ?::varchar as _source_file from read_parquet(?, hive_partitioning = false)",
        [str(path), str(path)],
    )
    row = con.execute(
        "select count(*) from read_parquet(?, hive_partitioning = false)", [str(path)]
    ).fetchone()
    return int(row[0]) if row else 0


def replace_quarantine(
    con: duckdb.DuckDBPyConnection, provider: str, entity: str, window_dir: Path, path: Path | None
) -> int:
    """Quarantine rows of one window are replaced whole: a row fixed upstream leaves it."""
    con.execute(
        "delete from quarantine where provider = ? and entity = ? and _source_file like ?",
        [provider, entity, f"{window_dir}%"],
    )
    if path is None:
        return 0
    return upsert_parquet(con, "quarantine", path, replace=False)


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
