"""`recon sql`: SQL on the published snapshot with the project's own DuckDB, so analysts need
no DuckDB CLI. The caller opens the snapshot read-only; a statement that would write it fails
in DuckDB itself.

Each statement's rows are shown as a terminal table (`outputs.tables`); statements without
rows (`set variable`, `use`) show nothing. An error is DuckDB's message on one line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import duckdb

from outputs.tables import render

# Statements that answer with rows; the others answer with a status nobody asked for.
ANSWERS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
    duckdb.StatementType.EXPLAIN,
}
# Rows shown per statement: enough to read, not a whole ledger in the terminal.
MAX_ROWS = 1000
CELL_WIDTH = 80
HELP = """\
End each statement with ';' (it may span lines). Commands:
  .tables   the tables and views of the snapshot
  .help     this text
  .quit     leave (so does end of input, Ctrl-D)"""


class SqlError(ValueError):
    """A statement DuckDB refused, as one line: its message without the pointer under it."""

    def __init__(self, exc: duckdb.Error) -> None:
        lines = str(exc).strip().split("\n\n", 1)[0].splitlines()
        super().__init__(" ".join(line.strip() for line in lines if line.strip()))


def execute(con: duckdb.DuckDBPyConnection, text: str) -> Iterator[str]:
    """Run every statement of `text` in order, yielding each answer as a table."""
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise SqlError(exc) from None
    for statement in statements:
        try:
            cursor = con.execute(statement.query)
            if statement.type not in ANSWERS:
                continue
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(MAX_ROWS + 1)
        except duckdb.Error as exc:
            raise SqlError(exc) from None
        if statement.type == duckdb.StatementType.EXPLAIN:
            yield "\n".join(str(row[-1]) for row in rows)
        else:
            yield table(columns, rows)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    shown = rows[:MAX_ROWS]
    numbers = [
        name
        for i, name in enumerate(columns)
        if shown and all(_is_number(r[i]) for r in shown if r[i] is not None)
    ]
    if len(rows) > MAX_ROWS:
        count = f"(the first {MAX_ROWS} rows; add a limit, or read the rest from Python)"
    else:
        count = "(1 row)" if len(rows) == 1 else f"({len(rows)} rows)"
    return render(columns, shown, right=numbers, max_width=CELL_WIDTH) + "\n" + count


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def run_once(con: duckdb.DuckDBPyConnection, text: str, out: TextIO = sys.stdout) -> None:
    """`recon sql -c`: the statements' answers, or SqlError at the first that fails."""
    for answer in execute(con, text):
        print(answer, file=out)


def shell(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Read statements from standard input until `.quit` or its end, answering each; a
    failing statement is said and the shell goes on."""
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (line editing and history for input())

        print(f"recon sql: {path}, read-only (DuckDB {duckdb.__version__})")
        print("End each statement with ';'. .help lists the commands, .quit leaves.")
    pending: list[str] = []
    while True:
        prompt = ("recon> " if not pending else "   ...> ") if interactive else ""
        try:
            line = input(prompt)
        except EOFError:
            break
        except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, as psql does
            pending.clear()
            print()
            continue
        if not pending and line.strip().startswith("."):
            if not _command(con, line.strip()):
                break
            continue
        pending.append(line)
        if "".join(pending).rstrip().endswith(";"):
            _answer(con, "\n".join(pending))
            pending.clear()
    if "".join(pending).strip():  # the last statement of a script may lack its ';'
        _answer(con, "\n".join(pending))
    if interactive:
        print()
    return 0


def _answer(con: duckdb.DuckDBPyConnection, text: str) -> None:
    try:
        for answer in execute(con, text):
            print(answer)
    except SqlError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)


def _command(con: duckdb.DuckDBPyConnection, command: str) -> bool:
    """A dot command; False when it ends the shell."""
    name = command.split()[0]
    if name in (".quit", ".exit"):
        return False
    if name == ".tables":
        _answer(con, "select table_name, table_type from information_schema.tables order by 1;")
    elif name == ".help":
        print(HELP)
    else:
        print(f"Error: unknown command {name}; .help lists them", file=sys.stderr)
    return True
