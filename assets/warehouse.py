"""Warehouse assets: landed Parquet loaded into DuckDB by key, then the staging SQL models.

Assets `raw_<provider>__<entity>` load what the landing layer wrote (`store.warehouse`), and
assets `stg_<provider>__<entity>` build `sql/staging/<name>.sql` as tables (the windowed
ones re-derive only the rows their loads changed: store.maintain). Every writer is in
the `warehouse` pool: DuckDB has one writer at a time.
"""

from datetime import UTC, date, datetime

import dagster as dg
from dagster import AssetExecutionContext

from assets.partitions import DAILY
from assets.progress import report
from assets.resources import ReconResource, WarehouseResource
from store import duck, maintain
from store.datasets import DATASETS, Dataset, dataset
from store.warehouse import ensure_raw_tables, load_new_snapshots, load_window, writers

POOL = "warehouse"


def _window_load(ds: Dataset) -> dg.AssetsDefinition:
    @dg.asset(
        name=ds.raw_table,
        group_name="warehouse",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[ds.lake_asset],
        pool=POOL,
        kinds={"duckdb"},
        description=f"{ds.provider} {ds.entity} as landed, loaded by key; rows refused at "
        f"landing are in `quarantine`. Grain: one row per {', '.join(ds.table_key())}.",
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        loaded = refused = 0
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            for key in context.partition_keys:
                result = load_window(con, warehouse.lake(), ds, date.fromisoformat(key))
                if result is None:
                    report(context, f"{ds.raw_table} {key}: nothing landed for this day")
                    continue
                loaded += result[0]
                refused += result[1]
            row = con.execute(f"select count(*) from {ds.raw_table}").fetchone()
        return dg.MaterializeResult(
            metadata={
                "rows_loaded": loaded,
                "quarantined": refused,
                "table_rows": row[0] if row else 0,
            }
        )

    return _asset


def _snapshot_load(ds: Dataset) -> dg.AssetsDefinition:
    # Tails are loaded after the day windows of their entities.
    tails = [dataset(ds.provider, t).raw_table for t in ds.tails]

    @dg.asset(
        name=ds.raw_table,
        group_name="warehouse",
        deps=[ds.lake_asset, *tails],
        pool=POOL,
        kinds={"duckdb"},
        description=f"{ds.provider} {ds.entity} snapshots, history kept. "
        f"Grain: one row per {', '.join(ds.table_key())}.",
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            loaded = load_new_snapshots(con, warehouse.lake(), ds)
        report(context, f"{ds.raw_table}: {loaded} snapshot rows loaded")
        return dg.MaterializeResult(metadata={"rows_loaded": loaded})

    return _asset


def _staging(model: str, upstream: list[str]) -> dg.AssetsDefinition:
    header = duck.sql_text(model).splitlines()[:2]

    @dg.asset(
        name=model,
        group_name="staging",
        deps=upstream,
        pool=POOL,
        kinds={"duckdb", "sql"},
        description=" ".join(line.lstrip("- ") for line in header),
    )
    def _asset(
        context: AssetExecutionContext, warehouse: WarehouseResource, recon: ReconResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            how, written = maintain.refresh(con, model, recon.full_recheck, datetime.now(UTC))
            row = con.execute(f"select count(*) from {model}").fetchone()
            rows = int(row[0]) if row else 0
        report(context, f"{model}: {rows} rows ({how}, {written} written)")
        return dg.MaterializeResult(metadata={"rows": rows, "rows_written": written, "how": how})

    return _asset


warehouse_assets = [_window_load(ds) if ds.windowed else _snapshot_load(ds) for ds in DATASETS] + [
    _staging(ds.staging_model, writers(ds)) for ds in DATASETS
]
