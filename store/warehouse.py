"""The warehouse engine: landed Parquet loaded into DuckDB by key, and which tables stage what.

Raw tables `raw_<provider>__<entity>` take what the landing layer wrote (windows by day,
snapshots not loaded yet) with `INSERT OR REPLACE` on the entity key, so any range can be
re-run; `sql/staging/stg_<provider>__<entity>.sql` stages each of them.
"""

import logging
import os
import time
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow as pa

from connectors.schema import QUARANTINE_SCHEMA
from store import duck, maintain, publish
from store.datasets import DATASETS, SOURCE_FIELD, Dataset, dataset, tail_entity
from store.files import write_atomically
from store.lake import Lake, read_counts
from store.landing.common import day_window
from store.maintain import changes_table

log = logging.getLogger("recon.progress")


def open_working(path: Path, published: Path) -> duckdb.DuckDBPyConnection:
    """The working warehouse, for writing.

    A lost working copy, or a data dir from before the two files, carries on from the
    published snapshot: every snapshot holds every table but the pipeline's change log, break
    history included, and the keys are put back (`_rebuild`). So does
    a working file DuckDB cannot read (truncated, overwritten): it is set aside, named, for
    whoever wants to look at it, and rebuilt from the snapshot, instead of failing every run
    after it. A file another process has open is not broken: that error goes up as it is.
    A working file in another storage format than `duck.STORAGE_VERSION` (made before the
    pipeline named one) is migrated once, so the snapshots copied from it are too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and published.exists():
        _restore(path, published)
    try:
        con = duck.connect_file(path)
    except duckdb.IOException as exc:
        if "not a valid DuckDB database file" not in str(exc) or not published.exists():
            raise
        aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
        os.replace(path, aside)
        log.warning(
            f"{path} could not be read as a DuckDB database; set aside as {aside.name} and "
            f"rebuilt from the published snapshot {published}"
        )
        _restore(path, published)
        con = duck.connect_file(path)
    if duck.storage_version(con) == duck.STORAGE_VERSION:
        return con
    con.close()  # checkpointed: the migration reads the whole file, no write-ahead log
    log.warning(migrate_storage(path))
    return duck.connect_file(path)


def _restore(path: Path, published: Path) -> None:
    # Written beside and renamed, so a rebuild cut short is never taken for the warehouse; a
    # write-ahead log of the file it replaces would be replayed onto it.
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    write_atomically(path, lambda tmp: _rebuild(tmp, published))


def _rebuild(path: Path, published: Path) -> None:
    """A working warehouse at `path` holding the snapshot `published`: its tables and rows,
    with the keys snapshots leave out (ensure_raw_tables). The change log starts empty, and
    says it knows no change before the snapshot's run, so the older snapshot slot is built
    whole rather than brought up to date from changes this file never saw."""
    with duck.connect_file(path) as con:
        ensure_raw_tables(con)
        made = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        con.execute("attach ? as published (read_only)", [str(published)])
        try:
            for table in publish.published_tables(con, "published"):
                # Names come from the snapshot's catalogue, which the pipeline wrote.
                if table in made:
                    con.execute(f"insert into main.{table} by name from published.main.{table}")
                else:
                    con.execute(f"create table main.{table} as from published.main.{table}")
            publication = publish.read_publication(con, "published")
        finally:
            con.execute("detach published")
        if publication is not None:
            maintain.changes_known_since(con, publication.run_at)
        con.execute("checkpoint")


def migrate_storage(path: Path) -> str:
    """Rewrite a closed warehouse file in `duck.STORAGE_VERSION`, keeping every table.

    DuckDB never changes the format of an existing file, so the tables are copied into a new
    file beside it (COPY FROM DATABASE: tables, keys, views and comments), checked against the
    original table by table, and the new file renamed over the old one. Until the rename the
    original is untouched; a copy that fails or differs leaves it as it was. Returns what was
    done, for the log.
    """
    with duckdb.connect() as con:
        con.execute("attach ? as original (read_only)", [str(path)])
        found = duck.storage_version(con, "original")

    def copy(tmp: Path) -> None:
        try:
            with duckdb.connect() as con:
                con.execute("attach ? as original (read_only)", [str(path)])
                # The version is our constant; ATTACH options take no parameters.
                con.execute(
                    f"attach ? as migrated (storage_version '{duck.STORAGE_VERSION}')", [str(tmp)]
                )
                con.execute("copy from database original to migrated")
                differences = duck.differences(con, "original", "migrated")
                if differences:
                    raise RuntimeError(
                        f"migrating {path} to storage version {duck.STORAGE_VERSION} changed "
                        f"it ({'; '.join(differences)}); the file is left as it was"
                    )
                con.execute("detach migrated")  # checkpoints it: the file is whole
        finally:
            # A copy that failed may leave its write-ahead log; the copy itself goes with
            # write_atomically.
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)

    write_atomically(path, copy)
    return (
        f"{path} was in DuckDB storage version {found}; migrated once to "
        f"{duck.STORAGE_VERSION} (readable by DuckDB {duck.STORAGE_VERSION.lstrip('v')} and "
        "later): every table, the break history included, copied and checked"
    )


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table and the quarantine exist (empty until loaded), so models always build."""
    for ds in DATASETS:
        duck.ensure_table(con, ds.raw_table, ds.table_schema(), ds.table_key())
        if ds.history:
            # Rows a later delivery replaced, kept for the duplicate_entry check and for audit.
            replaced = ds.table_schema().append(pa.field("_replaced_at", pa.timestamp("us")))
            duck.ensure_table(con, ds.history_table, replaced, ())
        if ds.windowed:
            # Rows written since the last reconciliation, old and new versions (store.maintain).
            changed = ds.table_schema().append(pa.field("_consumed_at", pa.timestamp("us")))
            duck.ensure_table(con, changes_table(ds.raw_table), changed, ())
    duck.ensure_table(con, "quarantine", QUARANTINE_SCHEMA.append(SOURCE_FIELD), ())
    _upgrade_quarantine(con)
    duck.ensure_table(con, LANDED_WINDOWS, LANDED_WINDOWS_SCHEMA, LANDED_WINDOWS_KEY)


def _upgrade_quarantine(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses made before JT and Whalet keyed quarantined rows by an integer customer_id;
    every provider's account is now the text `account_id`."""
    columns = {r[0] for r in con.execute("describe quarantine").fetchall()}
    if "customer_id" in columns and "account_id" not in columns:
        con.execute("alter table quarantine rename column customer_id to account_id")
        con.execute("alter table quarantine alter column account_id type varchar")


# What each account's read of each landed day window said (the API's total) and gave, from
# the counts the window file carries: the incomplete_window and stale_source checks read it.
LANDED_WINDOWS = "landed_windows"
LANDED_WINDOWS_SCHEMA = pa.schema(
    [
        ("provider", pa.string()),
        ("entity", pa.string()),
        ("account_id", pa.string()),
        ("window_start", pa.timestamp("s")),
        ("window_end", pa.timestamp("s")),
        ("api_total", pa.int64()),
        ("landed_rows", pa.int64()),
        ("quarantined_rows", pa.int64()),
        ("fetched_at", pa.timestamp("s")),
        ("source_file", pa.string()),
    ]
)
LANDED_WINDOWS_KEY = ("provider", "entity", "account_id", "window_start")


def load_window(
    con: duckdb.DuckDBPyConnection, lake: Lake, ds: Dataset, day: date
) -> tuple[int, int] | None:
    """Load one landed day (rows and quarantine) in one transaction; None if nothing landed."""
    folder = lake.window_dir(ds.provider, ds.entity, day)
    data = folder / "data.parquet"
    if not lake.exists(data):
        return None
    quarantine = folder / "quarantine.parquet"
    source = lake.url(data)
    con.begin()
    try:
        with lake.local_copy(data) as file:
            key, history, changes = ds.table_key(), _history(ds), changes_table(ds.raw_table)
            rows = duck.upsert_parquet(con, ds.raw_table, file, key, history, source, changes)
            refused = _replace_quarantine(con, lake, quarantine)
            _record_counts(con, ds, day, file, source)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return rows, refused


def _replace_quarantine(con: duckdb.DuckDBPyConnection, lake: Lake, path: PurePosixPath) -> int:
    if not lake.exists(path):
        # Nothing is read: the window's old quarantine rows go, found by their lineage.
        return duck.replace_quarantine(con, Path(path), False, lake.url(path))
    with lake.local_copy(path) as file:
        return duck.replace_quarantine(con, file, True, lake.url(path))


def _record_counts(
    con: duckdb.DuckDBPyConnection, ds: Dataset, day: date, path: Path, source: str
) -> None:
    """The window's counts (from `path`, a local copy of the lake file `source`) replace what
    an earlier landing of the same day said. Counts that did not change keep when they were
    first read, as unchanged rows keep their lineage: loading the same data twice leaves the
    table as it was."""
    fetched_at, counts = read_counts(path)
    if fetched_at is None:
        return  # landed before counts were kept: nothing to compare against
    start, end = day_window(day)
    window = [ds.provider, ds.entity, start]
    known = con.execute(
        f"select account_id, api_total, landed_rows, quarantined_rows from {LANDED_WINDOWS} "
        "where provider = ? and entity = ? and window_start = ? order by account_id",
        window,
    ).fetchall()
    if known == sorted((c.account_id, c.api_total, c.rows, c.quarantined) for c in counts):
        return
    con.execute(
        f"delete from {LANDED_WINDOWS} where provider = ? and entity = ? and window_start = ?",
        window,
    )
    rows = [
        [ds.provider, ds.entity, c.account_id, start, end, c.api_total, c.rows, c.quarantined]
        for c in counts
    ]
    con.executemany(
        f"insert into {LANDED_WINDOWS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[*row, fetched_at, source] for row in rows],
    )


def load_new_snapshots(con: duckdb.DuckDBPyConnection, lake: Lake, ds: Dataset) -> int:
    """Load every landed snapshot newer than the newest one in the table.

    A snapshot identical to the newest loaded one adds nothing and is not loaded again, so
    re-running a range leaves the warehouse as it was.
    """
    row = con.execute(f"select max(_snapshot_at) from {ds.raw_table}").fetchone()
    newest: datetime | None = row[0] if row else None
    loaded = 0
    root = lake.entity_dir(ds.provider, ds.entity)
    for path in sorted(lake.glob(root, "date=*/at=*.parquet")):
        if path.name.endswith(".quarantine.parquet"):
            continue
        taken = datetime.strptime(f"{path.parent.name[5:]} {path.stem[3:]}", "%Y-%m-%d %H%M%S")
        if newest is not None and taken <= newest:
            continue
        with lake.local_copy(path) as file:
            if duck.same_as_latest_snapshot(con, ds.raw_table, file):
                continue
            con.begin()
            try:
                source = lake.url(path)
                loaded += duck.upsert_parquet(con, ds.raw_table, file, ds.table_key(), None, source)
                q_path = path.with_name(path.stem + ".quarantine.parquet")
                if lake.exists(q_path):
                    with lake.local_copy(q_path) as q_file:
                        duck.insert_parquet(con, "quarantine", q_file, lake.url(q_path))
                for tail in ds.tails:
                    loaded += load_tail(con, lake, dataset(ds.provider, tail), path)
                con.commit()
            except Exception:
                con.rollback()
                raise
    return loaded


def load_tail(
    con: duckdb.DuckDBPyConnection, lake: Lake, ds: Dataset, snapshot: PurePosixPath
) -> int:
    """The rows read with a snapshot join their entity's table, by key like any window."""
    folder = lake.entity_dir(ds.provider, tail_entity(ds.entity)) / snapshot.parent.name
    tail = folder / snapshot.name
    if not lake.exists(tail):
        return 0
    with lake.local_copy(tail) as file:
        key, history, changes = ds.table_key(), _history(ds), changes_table(ds.raw_table)
        source = lake.url(tail)
        return duck.upsert_parquet(con, ds.raw_table, file, key, history, source, changes)


def _history(ds: Dataset) -> str | None:
    return ds.history_table if ds.history else None


STAGING = {ds.staging_model: ds.raw_table for ds in DATASETS}


def writers(ds: Dataset) -> list[str]:
    """Every asset that writes `ds`'s raw table: its own load, and the snapshot loads that
    bring its tail rows. Staging before those ran would miss the tail and open false
    balance breaks (cards, wallets, JT users) that the next run resolves."""
    tails_of = [
        other.raw_table
        for other in DATASETS
        if other.provider == ds.provider and ds.entity in other.tails
    ]
    return [ds.raw_table, *tails_of]
