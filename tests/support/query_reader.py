"""An analyst's DuckDB in another environment: opens a warehouse file read-only, runs each SQL
text it is given and prints, as JSON, what each returned (or the error it raised).

    <python with some duckdb> tests/support/query_reader.py WAREHOUSE < queries.json

Run by path with another virtualenv's python, so it imports nothing but the standard library
and that environment's duckdb. The tests read the project's own DuckDB through `results` too,
so both sides are encoded the same way.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import duckdb


def encode(value: Any) -> list[str]:
    """A value as its Python type and text: Decimal('1.50') and 1.5 stay different."""
    return [type(value).__name__, str(value)]


def results(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    """Column names and every row, sorted (ties in an ORDER BY may come in either order)."""
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = sorted([encode(v) for v in row] for row in cursor.fetchall())
    except duckdb.Error as exc:
        return {"error": str(exc)}
    return {"columns": columns, "rows": rows}


def read(path: str, queries: list[str]) -> dict[str, Any]:
    with duckdb.connect(path, read_only=True) as con:
        row = con.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchone()
        return {
            "duckdb_version": duckdb.__version__,
            "storage_version": row[0] if row else None,
            "results": [results(con, sql) for sql in queries],
        }


if __name__ == "__main__":
    json.dump(read(sys.argv[1], json.load(sys.stdin)), sys.stdout)
