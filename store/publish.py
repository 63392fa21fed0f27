"""Publish layer: the read-only snapshot analysts open, and the meaning of every mart column.

The pipeline writes its working DuckDB under `$RECON_DATA_DIR/work/`. After the checks, the
warehouse is stamped with its run, checkpointed and closed, and its file copied beside the
published one, which the copy then replaces by a rename at
`$RECON_DATA_DIR/warehouse.duckdb`. A rename is atomic, so a reader opens either the previous
snapshot or this one, whole; a reader with the old file open keeps reading it undisturbed. The
pipeline never opens the published file for writing, so readers never meet its lock.

Table and column comments come from `docs/data-dictionary.md`, so what analysts read in the
docs and what DuckDB shows them (`duckdb_columns().comment`) is one text.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from store.duck import STORAGE_VERSION, storage_version
from store.files import fsync

log = logging.getLogger("recon.publish")
DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"
# The one-row table in every snapshot that says which run it holds.
PUBLICATION = "recon_publication"
MART_PREFIXES = ("fct_", "dim_")


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    columns: dict[str, str]


_HEADING = re.compile(r"^##\s+`?(?P<name>(?:fct|dim)_[a-z0-9_]+)`?\s*$")
_ROW = re.compile(r"^\|\s*`(?P<column>[a-z0-9_]+)`\s*\|(?P<cells>.*)\|\s*$")


def _cells(text: str) -> list[str]:
    return [cell.strip() for cell in text.split("|")]


def read_dictionary(path: Path = DICTIONARY) -> dict[str, TableDoc]:
    """The marts of the data dictionary: per `## fct_…` section, its first paragraph and
    the rows of its column table, whose first cell is the `column` and last its meaning."""
    docs: dict[str, TableDoc] = {}
    name: str | None = None
    paragraph: list[str] = []
    columns: dict[str, str] = {}
    described = False

    def close() -> None:
        if name is not None:
            docs[name] = TableDoc(name, " ".join(paragraph), dict(columns))

    if not path.exists():
        return docs
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            close()
            heading = _HEADING.match(line)
            name = heading["name"] if heading else None
            paragraph, columns, described = [], {}, False
        elif name is None:
            continue
        elif row := _ROW.match(line):
            columns[row["column"]] = _cells(row["cells"])[-1]
        elif not described and not line.startswith(("|", "#")):
            # The first paragraph describes the table; later prose is for the reader only.
            if line.strip():
                paragraph.append(line.strip())
            elif paragraph:
                described = True
    close()
    return docs


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and (" + " or ".join("starts_with(table_name, ?)" for _ in MART_PREFIXES) + ") "
        "order by table_name",
        list(MART_PREFIXES),
    ).fetchall()
    return [r[0] for r in rows]


def _plain(text: str) -> str:
    """Markdown cell text as a plain comment: no backticks or emphasis."""
    return re.sub(r"[`*]", "", text).strip()


def describe_marts(con: duckdb.DuckDBPyConnection, path: Path = DICTIONARY) -> list[str]:
    """COMMENT ON every mart and its columns from the dictionary. Returns the columns the
    dictionary lacks (a test keeps this empty; a run does not fail over documentation)."""
    docs = read_dictionary(path)
    missing: list[str] = []
    for table in mart_tables(con):
        doc = docs.get(table)
        # Names come from the catalogue, never from provider data; see _literal for the text.
        if doc is not None:
            con.execute(f"comment on table {table} is {_literal(_plain(doc.description))}")
        for (column,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and table_name = ? order by column_index",
            [table],
        ).fetchall():
            text = doc.columns.get(column) if doc else None
            if text is None:
                missing.append(f"{table}.{column}")
                continue
            con.execute(f'comment on column {table}."{column}" is {_literal(_plain(text))}')
    return missing


def _literal(text: str) -> str:
    # COMMENT ON takes a constant, not a parameter; the text is ours (the dictionary).
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Publication:
    """Which run a snapshot holds (its `recon_publication` row)."""

    run_id: str
    run_at: datetime
    published_at: datetime


def read_publication(con: duckdb.DuckDBPyConnection) -> Publication | None:
    """The snapshot's publication, or None for a warehouse that was never published."""
    found = con.execute(
        "select count(*) from duckdb_tables() where table_name = ?", [PUBLICATION]
    ).fetchone()
    if not found or not found[0]:
        return None
    row = con.execute(f"select run_id, run_at, published_at from {PUBLICATION}").fetchone()
    return Publication(str(row[0]), row[1], row[2]) if row else None


@dataclass(frozen=True)
class Published:
    path: Path
    run_id: str
    run_at: datetime
    published_at: datetime
    size_bytes: int


def stamp(
    con: duckdb.DuckDBPyConnection, run_id: str, run_at: datetime, published_at: datetime
) -> None:
    """Write which run is being published into the warehouse itself, and checkpoint, so the
    file on disk is the whole warehouse with nothing left in the write-ahead log."""
    con.execute(
        f"create or replace table {PUBLICATION} as select "
        "?::varchar as run_id, ?::timestamp as run_at, ?::timestamp as published_at",
        [run_id, run_at, published_at],
    )
    con.execute(f"comment on table {PUBLICATION} is {_literal(_PUBLICATION_DOC)}")
    con.execute("checkpoint")


def publish(work: Path, target: Path, run_id: str) -> Published:
    """Copy the working warehouse file `work` to `target`, atomically.

    The caller has stamped and checkpointed `work` and closed it, and holds the warehouse
    pool, so the file is whole and nothing writes it. A byte copy is ~40 times faster than
    DuckDB's COPY FROM DATABASE (make bench), so the snapshot has the working file's storage
    format, `STORAGE_VERSION`. The copy is written beside `target`, synced, opened read-only
    to prove it is whole, holds this run and is in that format, then renamed over `target`:
    a reader sees the old snapshot or the new one, never a mix.
    """
    if work.with_name(work.name + ".wal").exists():
        raise RuntimeError(f"{work} has a write-ahead log: it is not closed and checkpointed")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.publishing")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(work, staging)
    fsync(staging)
    with duckdb.connect(str(staging), read_only=True) as con:
        publication = read_publication(con)
        version = storage_version(con)
    if publication is None or publication.run_id != run_id:
        raise RuntimeError(f"the copy of {work} does not hold run {run_id}; nothing published")
    if version != STORAGE_VERSION:
        # Analysts' DuckDB 1.4 tools could not open it (docs/analyst-guide.md).
        raise RuntimeError(
            f"the copy of {work} is in storage version {version}, not {STORAGE_VERSION}; "
            "nothing published"
        )
    _set_aside_wal(target)
    os.replace(staging, target)
    fsync(target.parent)
    return Published(
        target, run_id, publication.run_at, publication.published_at, target.stat().st_size
    )


_PUBLICATION_DOC = (
    "Which run this snapshot holds: the Dagster run id, when its checks ran (run_at, UTC) "
    "and when it was published. One row."
)


def _set_aside_wal(target: Path) -> Path | None:
    """A `.wal` beside the published file belongs to no snapshot of ours (someone opened it
    read-write, or an old layout crashed); left there, DuckDB would refuse to open the new
    file at all. It is kept, renamed, for whoever wants to look at it."""
    wal = target.with_name(target.name + ".wal")
    if not wal.exists():
        return None
    aside = wal.with_name(f"{wal.name}.set-aside-{int(wal.stat().st_mtime)}")
    os.replace(wal, aside)
    log.warning(f"{wal} did not belong to a published snapshot; moved to {aside}")
    return aside


def adopt_published_history(
    con: duckdb.DuckDBPyConnection, published: Path, history: tuple[str, ...]
) -> str | None:
    """Keep the break history to what was published.

    The working warehouse is stamped with its run just before the copy; a run killed between
    the stamp and the swap leaves its counts and opening times in the working file though
    analysts never saw that run. When the working file's last stamp is not the published run,
    the history tables are taken back from the published snapshot (or emptied, if nothing
    was ever published). Returns what was done, or None when the two agree.
    """
    mine = read_publication(con)
    if mine is None:
        return None
    theirs: Publication | None = None
    if published.exists():
        with duckdb.connect(str(published), read_only=True) as snapshot:
            theirs = read_publication(snapshot)
    if theirs is not None and theirs.run_id == mine.run_id:
        return None
    if theirs is None:
        for table in history:
            con.execute(f"drop table if exists {table}")
        return f"run {mine.run_id} was stamped but never published: its break history is dropped"
    con.execute("attach ? as published (read_only)", [str(published)])
    try:
        kept = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'published'"
            ).fetchall()
        }
        for table in history:
            if table in kept:
                con.execute(f"create or replace table {table} as from published.{table}")
            else:
                con.execute(f"drop table if exists {table}")
    finally:
        con.execute("detach published")
    return (
        f"run {mine.run_id} was stamped but never published (killed while publishing?): the "
        f"break history is taken back from the published run {theirs.run_id}"
    )
