"""Landing layer: provider windows and snapshots fetched whole, checked and written as Parquet.

Assets `lake_openapi__<entity>`. Windowed entities (ledger entries, card trades, orders) are
daily partitions in the provider's time zone, one partition = one API window [day, day+1)
for every configured customer; a range of days runs in one pass, one window in memory at a
time. Snapshots (wallets, cards, exchange rates) land the provider's state when they run.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
from dagster import AssetExecutionContext

from assets import lake
from assets.partitions import DAILY, PROVIDER
from assets.resources import OpenApiResource, WarehouseResource
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.rows import (
    DATETIME_FORMAT,
    QUARANTINE_SCHEMA,
    SCHEMAS,
    convert_rows,
    window_bounds,
)

WINDOW_ENTITIES = ("transactions", "card_trades", "orders")
SNAPSHOT_ENTITIES = ("wallets", "cards", "exchange_rates")
WINDOW_COLUMNS = {"_window_start": pa.timestamp("s"), "_window_end": pa.timestamp("s")}
SNAPSHOT_COLUMNS = {"_snapshot_at": pa.timestamp("s")}
# A wallet or card snapshot is read between two reads of the rows that move its balance
# (its "tails"), and says how far those rows are known complete (see land_bracketed).
CHAIN_COLUMNS = {"_tail_from": pa.timestamp("s"), "_chain_through": pa.timestamp("s")}
TAILS: dict[str, tuple[str, ...]] = {
    "wallets": ("transactions",),
    "cards": ("orders", "card_trades"),
}
TAIL_TIME = {"transactions": "transaction_time", "orders": "create_at", "card_trades": "trade_time"}


def tail_entity(entity: str) -> str:
    return f"{entity}_tail"


def snapshot_columns(entity: str) -> dict[str, pa.DataType]:
    return SNAPSHOT_COLUMNS | (CHAIN_COLUMNS if entity in TAILS else {})


FETCHED = {"_fetched_at": pa.timestamp("s")}

progress_log = logging.getLogger("recon.progress")


def report(context: AssetExecutionContext, message: str) -> None:
    """Progress for the Dagster UI and for the terminal of `recon run`."""
    context.log.info(message)
    progress_log.info(message)


@dataclass
class Landed:
    rows: int = 0
    quarantined: int = 0
    refetched: int = 0
    files: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "quarantined": self.quarantined,
            "refetched_windows": self.refetched,
            "files": self.files,
        }


def _quarantine_table(
    rows: list[dict[str, Any]], start: datetime | None, end: datetime | None, fetched_at: datetime
) -> pa.Table:
    full = [
        {
            **r,
            "provider": PROVIDER,
            "window_start": start,
            "window_end": end,
            "fetched_at": fetched_at,
        }
        for r in rows
    ]
    return pa.Table.from_pylist(full, schema=QUARANTINE_SCHEMA)


def land_window(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    day: date,
    data_dir: Path,
    fetched_at: datetime,
) -> Landed:
    """Fetch one day's window for every customer, then land it as one file (or not at all)."""
    start_dt = datetime(day.year, day.month, day.day)
    start, end = window_bounds(start_dt)
    extra = {"_window_start": start_dt, "_window_end": start_dt + timedelta(days=1)}
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    refetched = 0
    # Every customer's window is fetched before anything is written: a failure leaves the
    # previous file for this day untouched.
    for creds in customers:
        fetched = client.window(creds, entity, start, end)
        refetched += fetched.attempts - 1
        converted = convert_rows(
            entity, creds.customer_id, fetched.rows, extra | {"_fetched_at": fetched_at}
        )
        rows += converted.rows
        quarantined += converted.quarantined
    schema = SCHEMAS[entity].arrow_schema(WINDOW_COLUMNS | FETCHED)
    table = pa.Table.from_pylist(rows, schema=schema)
    q_table = _quarantine_table(
        quarantined, extra["_window_start"], extra["_window_end"], fetched_at
    )
    lake.replace_window(data_dir, PROVIDER, entity, day, table, q_table)
    return Landed(len(rows), len(quarantined), refetched, 1)


def newest_window_end(data_dir: Path, entity: str) -> datetime | None:
    """End of the newest day window of an entity landed so far (where its tail starts)."""
    days = [
        date.fromisoformat(p.parent.name[5:])
        for p in lake.entity_dir(data_dir, PROVIDER, entity).glob("date=*/data.parquet")
    ]
    if not days:
        return None
    last = max(days) + timedelta(days=1)
    return datetime(last.year, last.month, last.day)


def tail_start(data_dir: Path, entities: tuple[str, ...]) -> datetime | None:
    """Where the tails start: after the newest window that every tail entity has landed."""
    ends = [newest_window_end(data_dir, e) for e in entities]
    return None if any(end is None for end in ends) else min(e for e in ends if e)


def land_bracketed(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    data_dir: Path,
    taken_at: datetime,
) -> Landed:
    """A wallet or card snapshot, with its tails (the rows since the newest landed windows
    that move its balances) read before and after it.

    Each tail lands beside the snapshot (entity `<tail>_tail`) and is loaded like a window,
    so the loaded rows reach the moment the balances were read. Each snapshot row carries
    `_chain_through`: the balances equal the loaded rows up to that time. It is null when
    the rows moved during the read or no window has landed: the tie-out then stays silent.
    """
    tails = TAILS[entity]
    tail_from = tail_start(data_dir, tails)
    start = tail_from.strftime(DATETIME_FORMAT) if tail_from else None
    snapshot: list[dict[str, Any]] = []
    tail_rows: dict[str, list[dict[str, Any]]] = {t: [] for t in tails}
    quarantined: list[dict[str, Any]] = []
    window = {"_window_start": tail_from, "_window_end": taken_at, "_fetched_at": taken_at}
    for creds in customers:
        read = client.read_bracketed(creds, entity, tails, start)
        complete = read.consistent
        times: list[datetime] = []
        for t, raw in read.tails.items():
            converted = convert_rows(t, creds.customer_id, raw, window)
            complete = complete and not converted.quarantined
            tail_rows[t] += converted.rows
            quarantined += converted.quarantined
            times += [r[TAIL_TIME[t]] for r in converted.rows]
        through = None
        if complete and tail_from is not None:
            through = max(times) if times else tail_from - timedelta(seconds=1)
        extra = {
            "_snapshot_at": taken_at,
            "_fetched_at": taken_at,
            "_tail_from": tail_from if complete else None,
            "_chain_through": through,
        }
        converted = convert_rows(entity, creds.customer_id, read.rows, extra)
        snapshot += converted.rows
        quarantined += converted.quarantined
    if tail_from is not None:
        for t, rows in tail_rows.items():
            schema = SCHEMAS[t].arrow_schema(WINDOW_COLUMNS | FETCHED)
            path = lake.snapshot_path(data_dir, PROVIDER, tail_entity(t), taken_at)
            lake.write_atomic(pa.Table.from_pylist(rows, schema=schema), path)
    path = lake.snapshot_path(data_dir, PROVIDER, entity, taken_at)
    schema = SCHEMAS[entity].arrow_schema(snapshot_columns(entity) | FETCHED)
    _write_snapshot(path, pa.Table.from_pylist(snapshot, schema=schema), quarantined, taken_at)
    tail_count = sum(len(rows) for rows in tail_rows.values())
    return Landed(len(snapshot) + tail_count, len(quarantined), 0, 1)


def _write_snapshot(
    path: Path, table: pa.Table, quarantined: list[dict[str, Any]], taken_at: datetime
) -> None:
    lake.write_atomic(table, path)
    if quarantined:
        q_path = path.with_name(path.stem + ".quarantine.parquet")
        lake.write_atomic(_quarantine_table(quarantined, None, None, taken_at), q_path)


def land_snapshot(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    data_dir: Path,
    taken_at: datetime,
) -> Landed:
    """The provider's current state of a snapshot entity, for every customer, as one file."""
    if entity in TAILS:
        return land_bracketed(client, customers, entity, data_dir, taken_at)
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    for creds in customers:
        if entity == "exchange_rates":
            wallets = client.fetch_all(creds, "wallets").rows
            currencies = sorted({str(w.get("currency")) for w in wallets})
            raw = client.exchange_rates(creds, currencies)
        else:
            raw = client.fetch_all(creds, entity).rows
        converted = convert_rows(entity, creds.customer_id, raw, extra)
        rows += converted.rows
        quarantined += converted.quarantined
    schema = SCHEMAS[entity].arrow_schema(SNAPSHOT_COLUMNS | FETCHED)
    path = lake.snapshot_path(data_dir, PROVIDER, entity, taken_at)
    _write_snapshot(path, pa.Table.from_pylist(rows, schema=schema), quarantined, taken_at)
    return Landed(len(rows), len(quarantined), 0, 1)


def _skipped(context: AssetExecutionContext, entity: str) -> dg.MaterializeResult[None]:
    report(context, f"{entity}: OPEN-API is not configured (OPENAPI_BASE_URL unset); skipped")
    return dg.MaterializeResult(metadata={"skipped": "OPEN-API not configured"})


def _window_asset(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"lake_{PROVIDER}__{entity}",
        group_name="landing",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"parquet"},
        description=f"OPEN-API {entity}, one Parquet file per day window [day, day+1) for "
        "all customers. Grain: one row per entity key per window.",
    )
    def _asset(
        context: AssetExecutionContext, openapi: OpenApiResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        if not openapi.is_configured():
            return _skipped(context, entity)
        total = Landed()
        fetched_at = openapi.provider_now()
        days = [date.fromisoformat(k) for k in context.partition_keys]
        with openapi.client() as client:
            customers = openapi.credentials()
            for i, day in enumerate(days, 1):
                landed = land_window(client, customers, entity, day, warehouse.root(), fetched_at)
                total.rows += landed.rows
                total.quarantined += landed.quarantined
                total.refetched += landed.refetched
                total.files += 1
                report(
                    context,
                    f"{entity} {day} ({i}/{len(days)}): {landed.rows} rows, "
                    f"{landed.quarantined} quarantined",
                )
        return dg.MaterializeResult(metadata=total.metadata())

    return _asset


def _snapshot_asset(entity: str) -> dg.AssetsDefinition:
    # Wallet and card snapshots read their tails after the newest landed windows.
    deps = [f"lake_{PROVIDER}__{t}" for t in TAILS.get(entity, ())]

    @dg.asset(
        name=f"lake_{PROVIDER}__{entity}",
        group_name="landing",
        deps=deps,
        kinds={"parquet"},
        description=f"OPEN-API {entity} as the provider reports them when the run takes the "
        "snapshot. Grain: one row per entity key per snapshot.",
    )
    def _asset(
        context: AssetExecutionContext, openapi: OpenApiResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        if not openapi.is_configured():
            return _skipped(context, entity)
        with openapi.client() as client:
            landed = land_snapshot(
                client, openapi.credentials(), entity, warehouse.root(), openapi.provider_now()
            )
        report(context, f"{entity} snapshot: {landed.rows} rows, {landed.quarantined} quarantined")
        return dg.MaterializeResult(metadata=landed.metadata())

    return _asset


landing_assets = [_window_asset(e) for e in WINDOW_ENTITIES] + [
    _snapshot_asset(e) for e in SNAPSHOT_ENTITIES
]
