"""OPEN-API landing: ledger entries, card trades and orders by day window; wallets, cards and
exchange rates as snapshots.

A window is one API window [day, day+1) on the provider's clock for every configured
customer, fetched whole before its one file is written. A snapshot lands the provider's
state when it is read (wallets and cards between two reads of their tails).
The assets that call these are `assets.landing.openapi`.
"""

from collections import Counter
from datetime import date, datetime
from typing import Any

from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.rows import DATETIME_FORMAT, convert_rows
from connectors.schema import Converted
from store.datasets import Dataset, dataset
from store.lake import Lake, WindowCount
from store.landing.common import (
    Landed,
    chain_through,
    day_window,
    tail_start,
    write_snapshot,
    write_tail,
    write_window,
)

PROVIDER = "openapi"
WINDOW_ENTITIES = ("transactions", "card_trades", "orders")
SNAPSHOT_ENTITIES = ("wallets", "cards", "exchange_rates")
TAIL_TIME = {"transactions": "transaction_time", "orders": "create_at", "card_trades": "trade_time"}


def land_window(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    day: date,
    lake: Lake,
    fetched_at: datetime,
) -> Landed:
    """Fetch one day's window for every customer, then land it as one file (or not at all)."""
    start_dt, end_dt = day_window(day)
    start, end = start_dt.strftime(DATETIME_FORMAT), end_dt.strftime(DATETIME_FORMAT)
    extra = {"_window_start": start_dt, "_window_end": end_dt, "_fetched_at": fetched_at}
    window = Converted([], [])
    counts: list[WindowCount] = []
    landed = Landed(files=1)
    # Every customer's window is fetched before anything is written: a failure leaves the
    # previous file for this day untouched.
    for creds in customers:
        fetched = client.window(creds, entity, start, end)
        landed.refetched += fetched.attempts - 1
        landed.sliced += fetched.slices > 1
        converted = convert_rows(entity, creds.customer_id, fetched.rows, extra)
        window.add(converted)
        # A window read in slices reports the sum of the slices' totals.
        counts.append(
            WindowCount(
                str(creds.customer_id),
                fetched.total,
                len(converted.rows),
                len(converted.quarantined),
            )
        )
    ds = dataset(PROVIDER, entity)
    write_window(lake, ds, day, window.rows, window.quarantined, fetched_at, counts)
    landed.rows, landed.quarantined = len(window.rows), len(window.quarantined)
    landed.unknown_fields = window.unknown
    return landed


def land_bracketed(
    client: OpenApiClient,
    customers: list[Credentials],
    ds: Dataset,
    lake: Lake,
    taken_at: datetime,
) -> Landed:
    """A wallet or card snapshot, with its tails (the rows since the newest landed windows
    that move its balances) read before and after it.

    Each tail lands beside the snapshot (entity `<tail>_tail`) and is loaded like a window,
    so the loaded rows reach the moment the balances were read. Each snapshot row carries
    `_chain_through`: the balances equal the loaded rows up to that time. It is null when
    the rows moved during the read or no window has landed: the tie-out then stays silent.
    """
    tails = [dataset(PROVIDER, t) for t in ds.tails]
    tail_from = tail_start(lake, tails)
    start = tail_from.strftime(DATETIME_FORMAT) if tail_from else None
    snapshot: list[dict[str, Any]] = []
    tail_rows: dict[str, list[dict[str, Any]]] = {t.entity: [] for t in tails}
    quarantined: list[dict[str, Any]] = []
    unknown: Counter[str] = Counter()
    refetched = 0
    window = {"_window_start": tail_from, "_window_end": taken_at, "_fetched_at": taken_at}
    for creds in customers:
        read = client.read_bracketed(creds, ds.entity, ds.tails, start)
        refetched += read.attempts - 1
        complete = read.consistent
        times: list[datetime] = []
        for t, raw in read.tails.items():
            converted = convert_rows(t, creds.customer_id, raw, window)
            complete = complete and not converted.quarantined
            tail_rows[t] += converted.rows
            quarantined += converted.quarantined
            unknown.update(converted.unknown)
            times += [r[TAIL_TIME[t]] for r in converted.rows]
        extra = {
            "_snapshot_at": taken_at,
            "_fetched_at": taken_at,
            "_tail_from": tail_from if complete else None,
            "_chain_through": chain_through(complete, tail_from, times, taken_at),
        }
        converted = convert_rows(ds.entity, creds.customer_id, read.rows, extra)
        snapshot += converted.rows
        quarantined += converted.quarantined
        unknown.update(converted.unknown)
    if tail_from is not None:
        for tail_ds in tails:
            write_tail(lake, tail_ds, tail_rows[tail_ds.entity], taken_at)
    write_snapshot(lake, ds, snapshot, quarantined, taken_at)
    tail_count = sum(len(rows) for rows in tail_rows.values())
    return Landed(
        len(snapshot) + tail_count, len(quarantined), refetched, 1, unknown_fields=unknown
    )


def land_snapshot(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    lake: Lake,
    taken_at: datetime,
) -> Landed:
    """The provider's current state of a snapshot entity, for every customer, as one file."""
    ds = dataset(PROVIDER, entity)
    if ds.tails:
        return land_bracketed(client, customers, ds, lake, taken_at)
    reading = Converted([], [])
    extra = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    for creds in customers:
        if entity == "exchange_rates":
            wallets = client.fetch_all(creds, "wallets").rows
            # A wallet row that is not an object is the wallets snapshot's to quarantine.
            currencies = sorted({str(w.get("currency")) for w in wallets if isinstance(w, dict)})
            raw: list[Any] = client.exchange_rates(creds, currencies)
        else:
            raw = client.fetch_all(creds, entity).rows
        reading.add(convert_rows(entity, creds.customer_id, raw, extra))
    write_snapshot(lake, ds, reading.rows, reading.quarantined, taken_at)
    return Landed(len(reading.rows), len(reading.quarantined), 0, 1, unknown_fields=reading.unknown)
