"""Warehouse layer: landed Parquet loaded into DuckDB by key, then the staging SQL models.

Assets `raw_openapi__<entity>` load what the landing layer wrote (windows by day, snapshots
not loaded yet) with `INSERT OR REPLACE` on the entity key, so any range can be re-run.
Assets `stg_openapi__<entity>` rebuild `sql/staging/<name>.sql` as tables. Every writer is in
the `warehouse` pool: DuckDB has one writer at a time.
"""

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
from dagster import AssetExecutionContext

from assets import duck, lake
from assets.landing import (
    FETCHED,
    SNAPSHOT_ENTITIES,
    TAILS,
    WINDOW_COLUMNS,
    WINDOW_ENTITIES,
    report,
    snapshot_columns,
    tail_entity,
)
from assets.partitions import DAILY, PROVIDER
from assets.resources import WarehouseResource
from connectors.openapi.rows import QUARANTINE_SCHEMA, SCHEMAS

POOL = "warehouse"
# Ledger rows a later delivery replaced, kept for the duplicate_entry check and for audit.
HISTORY = f"raw_{PROVIDER}__transactions_history"
SOURCE = {"_source_file": pa.string()}


def raw_table(entity: str) -> str:
    return f"raw_{PROVIDER}__{entity}"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table and the quarantine exist (empty until loaded), so models always build."""
    for entity in WINDOW_ENTITIES:
        schema = SCHEMAS[entity].arrow_schema(WINDOW_COLUMNS | FETCHED | SOURCE)
        duck.ensure_table(con, raw_table(entity), schema, SCHEMAS[entity].key)
    for entity in SNAPSHOT_ENTITIES:
        schema = SCHEMAS[entity].arrow_schema(snapshot_columns(entity) | FETCHED | SOURCE)
        key = (*SCHEMAS[entity].key, "_snapshot_at")
        duck.ensure_table(con, raw_table(entity), schema, key)
    duck.ensure_table(
        con, "quarantine", QUARANTINE_SCHEMA.append(pa.field("_source_file", pa.string())), ()
    )
    schema = SCHEMAS["transactions"].arrow_schema(WINDOW_COLUMNS | FETCHED | SOURCE)
    replaced = schema.append(pa.field("_replaced_at", pa.timestamp("us")))
    duck.ensure_table(con, HISTORY, replaced, ())


def load_window(
    con: duckdb.DuckDBPyConnection, data_dir: Path, entity: str, day: date
) -> tuple[int, int] | None:
    """Load one landed day (rows and quarantine) in one transaction; None if nothing landed."""
    folder = lake.window_dir(data_dir, PROVIDER, entity, day)
    data = folder / "data.parquet"
    if not data.exists():
        return None
    quarantine = folder / "quarantine.parquet"
    con.begin()
    try:
        rows = duck.upsert_parquet(
            con, raw_table(entity), data, SCHEMAS[entity].key, _history(entity)
        )
        refused = duck.replace_quarantine(con, quarantine, quarantine.exists())
        con.commit()
    except Exception:
        con.rollback()
        raise
    return rows, refused


def load_new_snapshots(con: duckdb.DuckDBPyConnection, data_dir: Path, entity: str) -> int:
    """Load every landed snapshot newer than the newest one in the table.

    A snapshot identical to the newest loaded one adds nothing and is not loaded again, so
    re-running a range leaves the warehouse as it was.
    """
    row = con.execute(f"select max(_snapshot_at) from {raw_table(entity)}").fetchone()
    newest: datetime | None = row[0] if row else None
    loaded = 0
    root = lake.entity_dir(data_dir, PROVIDER, entity)
    for path in sorted(root.glob("date=*/at=*.parquet")):
        if path.name.endswith(".quarantine.parquet"):
            continue
        taken = datetime.strptime(f"{path.parent.name[5:]} {path.stem[3:]}", "%Y-%m-%d %H%M%S")
        if newest is not None and taken <= newest:
            continue
        if duck.same_as_latest_snapshot(con, raw_table(entity), path):
            continue
        key = (*SCHEMAS[entity].key, "_snapshot_at")
        con.begin()
        try:
            loaded += duck.upsert_parquet(con, raw_table(entity), path, key)
            q_path = path.with_name(path.stem + ".quarantine.parquet")
            if q_path.exists():
                duck.insert_parquet(con, "quarantine", q_path)
            for tail in TAILS.get(entity, ()):
                loaded += load_tail(con, data_dir, tail, path)
            con.commit()
        except Exception:
            con.rollback()
            raise
    return loaded


def load_tail(con: duckdb.DuckDBPyConnection, data_dir: Path, entity: str, snapshot: Path) -> int:
    """The rows read with a snapshot join their entity's table, by key like any window."""
    folder = lake.entity_dir(data_dir, PROVIDER, tail_entity(entity)) / snapshot.parent.name
    tail = folder / snapshot.name
    if not tail.exists():
        return 0
    return duck.upsert_parquet(con, raw_table(entity), tail, SCHEMAS[entity].key, _history(entity))


def _history(entity: str) -> str | None:
    return HISTORY if entity == "transactions" else None


def _window_load(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=raw_table(entity),
        group_name="warehouse",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[f"lake_{PROVIDER}__{entity}"],
        pool=POOL,
        kinds={"duckdb"},
        description=f"OPEN-API {entity} as landed, loaded by key; rows refused at landing are "
        f"in `quarantine`. Grain: one row per {', '.join(SCHEMAS[entity].key)}.",
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        loaded = refused = 0
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            for key in context.partition_keys:
                result = load_window(con, warehouse.root(), entity, date.fromisoformat(key))
                if result is None:
                    report(context, f"{raw_table(entity)} {key}: nothing landed for this day")
                    continue
                loaded += result[0]
                refused += result[1]
            row = con.execute(f"select count(*) from {raw_table(entity)}").fetchone()
        return dg.MaterializeResult(
            metadata={
                "rows_loaded": loaded,
                "quarantined": refused,
                "table_rows": row[0] if row else 0,
            }
        )

    return _asset


def _snapshot_load(entity: str) -> dg.AssetsDefinition:
    # Tails are loaded after the day windows of their entities.
    deps = [f"lake_{PROVIDER}__{entity}", *(raw_table(t) for t in TAILS.get(entity, ()))]

    @dg.asset(
        name=raw_table(entity),
        group_name="warehouse",
        deps=deps,
        pool=POOL,
        kinds={"duckdb"},
        description=f"OPEN-API {entity} snapshots, history kept. "
        f"Grain: one row per {', '.join(SCHEMAS[entity].key)} per snapshot.",
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            loaded = load_new_snapshots(con, warehouse.root(), entity)
        report(context, f"{raw_table(entity)}: {loaded} snapshot rows loaded")
        return dg.MaterializeResult(metadata={"rows_loaded": loaded})

    return _asset


STAGING = {f"stg_{PROVIDER}__{e}": raw_table(e) for e in WINDOW_ENTITIES + SNAPSHOT_ENTITIES}


def _staging(model: str, upstream: str) -> dg.AssetsDefinition:
    header = duck.sql_text(model).splitlines()[:2]

    @dg.asset(
        name=model,
        group_name="staging",
        deps=[upstream],
        pool=POOL,
        kinds={"duckdb", "sql"},
        description=" ".join(line.lstrip("- ") for line in header),
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            rows = duck.build_model(con, model)
        report(context, f"{model}: {rows} rows")
        return dg.MaterializeResult(metadata={"rows": rows})

    return _asset


warehouse_assets = (
    [_window_load(e) for e in WINDOW_ENTITIES]
    + [_snapshot_load(e) for e in SNAPSHOT_ENTITIES]
    + [_staging(m, u) for m, u in STAGING.items()]
)
