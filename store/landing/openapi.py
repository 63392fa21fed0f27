"""OPEN-API landing: ledger entries, card trades and orders by day window; wallets, cards and
exchange rates as snapshots.

A window is one API window [day, day+1) on the provider's clock for every configured
customer, fetched whole before its one file is written. A snapshot lands the provider's
state when it is read (wallets and cards between two reads of their tails).
The assets that call these are `assets.landing.openapi`.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.limits import each
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.rows import DATETIME_FORMAT, convert_rows, convert_table
from connectors.schema import Columns, Converted
from store.datasets import Dataset, dataset
from store.lake import Lake, WindowCount
from store.landing.common import (
    Landed,
    chain_through,
    day_window,
    tail_start,
    window_table,
    write_snapshot,
    write_tail,
    write_window,
)
from store.landing.windows import land_days

PROVIDER = "openapi"
WINDOW_ENTITIES = ("transactions", "card_trades", "orders")
SNAPSHOT_ENTITIES = ("wallets", "cards", "exchange_rates")
TAIL_TIME = {"transactions": "transaction_time", "orders": "create_at", "card_trades": "trade_time"}


@dataclass
class _Window:
    """One customer's window of a day, fetched whole and converted (its raw rows dropped)."""

    customer_id: int
    total: int
    attempts: int
    slices: int
    columns: Columns


def land_windows(
    client: OpenApiClient,
    customers: list[Credentials],
    entity: str,
    days: Sequence[date],
    lake: Lake,
    fetched_at: datetime,
    landed: Callable[[date, Landed], None] | None = None,
) -> Landed:
    """Fetch each day's window for every customer, concurrently within the provider's
    limits, and land each day as one file once all its customers are fetched (or not at
    all: a failure leaves the previous file for that day untouched); `landed` hears of
    each day as it lands (store.landing.windows)."""
    ds = dataset(PROVIDER, entity)

    def fetch(day: date, creds: Credentials) -> _Window:
        start, end = (t.strftime(DATETIME_FORMAT) for t in day_window(day))
        fetched = client.window(creds, entity, start, end)
        columns = convert_table(entity, creds.customer_id, fetched.rows)
        return _Window(creds.customer_id, fetched.total, fetched.attempts, fetched.slices, columns)

    def write(day: date, windows: list[_Window]) -> Landed:
        # A window read in slices reports the sum of the slices' totals.
        counts = [
            WindowCount(
                str(w.customer_id), w.total, w.columns.table.num_rows, len(w.columns.quarantined)
            )
            for w in windows
        ]
        table = window_table(ds, day, [w.columns.table for w in windows], fetched_at)
        quarantined = [q for w in windows for q in w.columns.quarantined]
        write_window(lake, ds, day, table, quarantined, fetched_at, counts)
        unknown: Counter[str] = Counter()
        for w in windows:
            unknown.update(w.columns.unknown)
        return Landed(
            table.num_rows,
            len(quarantined),
            sum(w.attempts - 1 for w in windows),
            1,
            sum(w.slices > 1 for w in windows),
            unknown,
        )

    return land_days(days, customers, fetch, write, client.http.concurrency, landed)


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
    # Customers are read at once, within the provider's limits; each one's reads stay in
    # their order (tails, snapshot, tails), which is what ties its balances to its rows.
    reads = each(
        lambda creds: client.read_bracketed(creds, ds.entity, ds.tails, start),
        customers,
        client.http.concurrency,
    )
    for creds, read in zip(customers, reads, strict=True):
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

    def read(creds: Credentials) -> list[Any]:
        if entity == "exchange_rates":
            wallets = client.fetch_all(creds, "wallets").rows
            # A wallet row that is not an object is the wallets snapshot's to quarantine.
            currencies = sorted({str(w.get("currency")) for w in wallets if isinstance(w, dict)})
            return client.exchange_rates(creds, currencies)
        return client.fetch_all(creds, entity).rows

    raws = each(read, customers, client.http.concurrency)
    for creds, raw in zip(customers, raws, strict=True):
        reading.add(convert_rows(entity, creds.customer_id, raw, extra))
    write_snapshot(lake, ds, reading.rows, reading.quarantined, taken_at)
    return Landed(len(reading.rows), len(reading.quarantined), 0, 1, unknown_fields=reading.unknown)
