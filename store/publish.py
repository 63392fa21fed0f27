"""Publish layer: the read-only snapshot analysts open, and the meaning of every mart column.

The pipeline writes its working DuckDB under `$RECON_DATA_DIR/work/`. After the checks, the
warehouse is stamped with its run and checkpointed, and one of two snapshot slots under
`$RECON_DATA_DIR/snapshots/` (the one analysts are not reading) is brought up to it with the
night's changes, then hard-linked and renamed over `$RECON_DATA_DIR/warehouse.duckdb`. A rename
is atomic, so a reader opens either the previous snapshot or this one, whole; a reader with
the old file open keeps reading it undisturbed. The pipeline never opens the published file
for writing, so readers never meet its lock.

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

from store import duck, maintain
from store.datasets import DATASETS
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


def read_publication(
    con: duckdb.DuckDBPyConnection, database: str | None = None
) -> Publication | None:
    """The publication of the connection's warehouse (or of the attached `database`), or
    None for a warehouse that was never published."""
    found = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = coalesce(?, current_database()) and table_name = ?",
        [database, PUBLICATION],
    ).fetchone()
    if not found or not found[0]:
        return None
    table = f"{database}.main.{PUBLICATION}" if database else PUBLICATION
    row = con.execute(f"select run_id, run_at, published_at from {table}").fetchone()
    return Publication(str(row[0]), row[1], row[2]) if row else None


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


# Publishing what changed. The published file is one of two snapshot slots (hard-linked to
# `target`); each night the other slot, the standby, is brought up to the working warehouse by
# applying the changes since the run it holds, then swapped in. A standby that is missing,
# locked by a reader, older than the kept changes, or shaped differently is built whole
# instead, as is every full re-check's.
#
# A snapshot holds the working warehouse's tables but not their keys: a key is an index, and
# DuckDB writes a changed table's index whole at each checkpoint, which made an update in
# place cost the size of the history (make bench). Snapshots are read-only, so nothing needs
# the index; the grain of every table is in docs/data-dictionary.md and docs/data.md.
SLOTS = ("a.duckdb", "b.duckdb")


@dataclass(frozen=True)
class Published:
    path: Path
    run_id: str
    run_at: datetime
    published_at: datetime
    size_bytes: int
    # How the standby became tonight's snapshot, in words for the run's log.
    how: str


def publish(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    slots: Path,
    run_id: str,
    *,
    full: bool = False,
) -> Published:
    """Publish the working warehouse `con` (stamped with `run_id`, checkpointed) as `target`:
    the standby slot is brought up to date with the changes since the run it holds, or built
    whole when it cannot be (or `full`: the run re-checked all history), then swapped in.

    The caller holds the warehouse pool, so nothing writes the working file meanwhile.
    """
    slot = standby_slot(target, slots)
    whole = "this run re-checked all history" if full else None
    if whole is None:
        whole = update_standby(con, slot, maintain.changes_pruned_through(con))
    if whole is not None:
        build_whole(con, slot, run_id)
    how = f"built whole: {whole}" if whole else "brought up to date with the changes"
    return swap_in(slot, target, run_id, how)


def published_tables(con: duckdb.DuckDBPyConnection, database: str | None = None) -> list[str]:
    """The tables of an attached warehouse (default: the connection's own) that a snapshot
    holds: all but the pipeline's own bookkeeping (maintain.PIPELINE_ONLY)."""
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = coalesce(?, current_database()) "
            "and schema_name = 'main' order by 1",
            [database],
        ).fetchall()
        if r[0] not in maintain.PIPELINE_ONLY
    ]


def snapshot_differences(con: duckdb.DuckDBPyConnection, working: str, snapshot: str) -> list[str]:
    """How the attached `snapshot` differs from what publishing the attached `working`
    warehouse must give (duck.differences without keys and the pipeline's own tables)."""
    return duck.differences(con, working, snapshot, leave_out=maintain.PIPELINE_ONLY, keys=False)


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, ...]]]:
    """Each table's columns in the attached `database`: name, type, nullable, in order."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for table, *column in con.execute(
        "select table_name, column_name, data_type, is_nullable from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' order by table_name, column_index",
        [database],
    ).fetchall():
        found.setdefault(str(table), []).append(tuple(map(str, column)))
    return found


def build_whole(con: duckdb.DuckDBPyConnection, slot: Path, run_id: str) -> None:
    """Write the snapshot `slot` afresh from the working warehouse `con`: every published
    table with its columns, types and NOT NULLs but no key, its rows and its comments. It is
    written beside the slot and renamed over it once checked: a slot cut short is never
    taken for a snapshot."""
    slot.parent.mkdir(parents=True, exist_ok=True)
    building = slot.with_name(f".{slot.name}.building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    working = duck.current_database(con)
    try:
        con.execute(f"attach ? as building (storage_version '{STORAGE_VERSION}')", [str(building)])
        try:
            shapes = _columns(con, working)
            for table in published_tables(con):
                columns = ", ".join(
                    f'"{name}" {data_type}' + ("" if nullable == "True" else " not null")
                    for name, data_type, nullable in shapes[table]
                )
                # Names and types come from the catalogue, never from provider data.
                con.execute(f"create table building.main.{table} ({columns})")
                con.execute(f"insert into building.main.{table} by name from main.{table}")
            _copy_comments(con, "building")
        finally:
            con.execute("detach building")
        fsync(building)
        _check(building, run_id)
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    os.replace(building, slot)


def standby_slot(target: Path, slots: Path) -> Path:
    """The slot that is not the published file: the one to write tonight."""
    paths = [slots / name for name in SLOTS]
    current = target.stat().st_ino if target.exists() else None
    unpublished = [p for p in paths if not (p.exists() and p.stat().st_ino == current)]
    if len(unpublished) == 1:
        return unpublished[0]
    # Neither slot is published (the first run, or a data dir from before the slots): the
    # newer one needs the fewest changes.
    existing = [p for p in paths if p.exists()]
    return max(existing, key=lambda p: p.stat().st_mtime) if existing else paths[0]


def update_standby(
    con: duckdb.DuckDBPyConnection, slot: Path, pruned_through: datetime | None
) -> str | None:
    """Bring the standby `slot` up to the working warehouse `con` (stamped, checkpointed) in
    one transaction on the slot. Returns why it must be built whole instead, or None."""
    if not slot.exists():
        return "there is no standby snapshot yet"
    try:
        con.execute("attach ? as standby", [str(slot)])
    except duckdb.Error as exc:
        # A reader still has last-but-one night's snapshot open: never wait for it.
        return f"the standby snapshot is in use ({str(exc).splitlines()[0]})"
    try:
        theirs = read_publication(con, "standby")
        why = _cannot_update(con, theirs, pruned_through)
        if why is not None or theirs is None:
            return why or "the standby snapshot holds no run"
        con.begin()
        try:
            _apply_changes(con, theirs.run_at)
            _copy_comments(con, "standby")
            differing = _counts_differ(con)
            if differing:
                raise RuntimeError(f"row counts differ after applying changes: {differing}")
            con.commit()
        except Exception as exc:
            con.rollback()
            log.warning(f"bringing the standby snapshot up to date failed ({exc}); built whole")
            return f"applying the changes failed ({exc})"
        con.execute("checkpoint standby")
        return None
    finally:
        con.execute("detach standby")


def _cannot_update(
    con: duckdb.DuckDBPyConnection, theirs: Publication | None, pruned_through: datetime | None
) -> str | None:
    if theirs is None:
        return "the standby snapshot holds no run"
    if pruned_through is not None and pruned_through > theirs.run_at:
        return f"the standby snapshot (run {theirs.run_id}) is older than the changes kept"
    if storage_version(con, "standby") != STORAGE_VERSION:
        return "the standby snapshot is in another storage version"
    working = duck.current_database(con)
    tables = published_tables(con)
    here, there = _columns(con, working), _columns(con, "standby")
    if tables != published_tables(con, "standby") or any(here[t] != there[t] for t in tables):
        return "the warehouse's tables changed shape since the standby snapshot"
    keys = con.execute(
        "select count(*) from duckdb_indexes() where database_name = 'standby'"
    ).fetchone()
    if keys != (0,) or con.execute(
        "select count(*) from duckdb_constraints() where database_name = 'standby' "
        "and constraint_type in ('PRIMARY KEY', 'UNIQUE')"
    ).fetchone() != (0,):
        return "the standby snapshot has keys (made before snapshots left them out)"
    return None


def _apply_changes(con: duckdb.DuckDBPyConnection, since: datetime) -> None:
    """Each table of the standby brought to the working warehouse's content: tables kept by
    key take the rows of the keys or units changed since `since`, append-only ones their new
    rows, the rest (small, rebuilt every run) their whole content."""
    windowed = {ds.raw_table: ds for ds in DATASETS if ds.windowed}
    appended = {ds.history_table: "_replaced_at" for ds in DATASETS if ds.history} | {
        ds.raw_table: "_snapshot_at" for ds in DATASETS if not ds.windowed
    }
    deltas = maintain.raw_deltas(con, since) | maintain.staged_deltas(con, since)
    for table in published_tables(con):
        theirs, mine = f"standby.main.{table}", f"main.{table}"
        if table in windowed:
            key = windowed[table].table_key()
            cols = ", ".join(f'"{c}"' for c in key)
            keys = f"(select distinct {cols} from {deltas[table]})"
            by_key = maintain.join_on(theirs, key, "k", key)
            con.execute(f"delete from {theirs} using {keys} k where {by_key}")
            con.execute(
                f"insert into {theirs} by name select t.* from {mine} t "
                f"semi join {keys} k on {maintain.join_on('t', key, 'k', key)}"
            )
        elif table in maintain.MAINTAINED:
            unit = maintain.MAINTAINED[table].unit
            if maintain.units(con, table, deltas):
                by_unit = maintain.join_on(theirs, unit, "_units", unit)
                con.execute(f"delete from {theirs} using _units where {by_unit}")
                con.execute(
                    f"insert into {theirs} by name select t.* from {mine} t "
                    f"semi join _units on {maintain.join_on('t', unit, '_units', unit)}"
                )
        elif table in appended:
            at = appended[table]
            con.execute(
                f"insert into {theirs} by name select * from {mine} where {at} > "
                f"coalesce((select max({at}) from {theirs}), timestamp '-infinity')"
            )
        else:
            con.execute(f"delete from {theirs}")
            con.execute(f"insert into {theirs} by name select * from {mine}")


def _copy_comments(con: duckdb.DuckDBPyConnection, into: str) -> None:
    """Table and column comments (the data dictionary's words) as the working file has them,
    on the published tables of the attached snapshot `into`."""
    working = duck.current_database(con)
    tables = published_tables(con)
    found = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = ? "
        "except select table_name, comment from duckdb_tables() where database_name = ?",
        [working, into],
    ).fetchall()
    for table, comment in found:
        if table in tables:
            text = "null" if comment is None else _literal(comment)
            con.execute(f"comment on table {into}.main.{table} is {text}")
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = ? "
        "except select table_name, column_name, comment from duckdb_columns() "
        "where database_name = ?",
        [working, into],
    ).fetchall()
    for table, column, comment in columns:
        if table in tables:
            text = "null" if comment is None else _literal(comment)
            con.execute(f'comment on column {into}.main.{table}."{column}" is {text}')


def _counts_differ(con: duckdb.DuckDBPyConnection) -> list[str]:
    differ = []
    for table in published_tables(con):
        row = con.execute(
            f"select (select count(*) from main.{table}), "
            f"(select count(*) from standby.main.{table})"
        ).fetchone()
        if row is None or row[0] != row[1]:
            differ.append(table)
    return differ


def _check(path: Path, run_id: str) -> Publication:
    with duckdb.connect(str(path), read_only=True) as con:
        publication = read_publication(con)
        version = storage_version(con)
    if publication is None or publication.run_id != run_id:
        raise RuntimeError(f"the snapshot {path} does not hold run {run_id}; nothing published")
    if version != STORAGE_VERSION:
        # Analysts' DuckDB 1.4 tools could not open it (docs/analyst-guide.md).
        raise RuntimeError(
            f"the snapshot {path} is in storage version {version}, not {STORAGE_VERSION}; "
            "nothing published"
        )
    return publication


def swap_in(slot: Path, target: Path, run_id: str, how: str) -> Published:
    """Make `slot` the published file: checked, hard-linked beside `target`, renamed over it.
    A reader sees the old snapshot or the new one, never a mix; one with the old file open
    keeps reading it (its slot is not written while it is locked)."""
    publication = _check(slot, run_id)
    linking = target.with_name(f".{target.name}.publishing")
    for leftover in (linking, linking.with_name(linking.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        os.link(slot, linking)
    except OSError:
        # A file system without hard links: a copy.
        shutil.copyfile(slot, linking)
        fsync(linking)
    _set_aside_wal(target)
    os.replace(linking, target)
    fsync(target.parent)
    return Published(
        target,
        run_id,
        publication.run_at,
        publication.published_at,
        target.stat().st_size,
        how,
    )
