"""JT wallet landing: balance records by day window, users (with JT's totals) as snapshots.

One request window [day, day+1) on JT's clock per day, the days of a range fetched at once
within JT's limits (store.landing.windows, as for OPEN-API); the users reading also lands
`user_totals` (assets `lake_jt__balance_records` and `lake_jt__users`). The users
are read between two reads of the records since the newest landed day, like OPEN-API wallets,
so a user's balance can be tied to its records.
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import pyarrow as pa

from connectors.jt.client import JtClient
from connectors.jt.rows import convert_rows
from connectors.paging import Whole
from store.datasets import dataset
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
from store.landing.windows import land_days

PROVIDER = "jt"
RECORDS = dataset(PROVIDER, "balance_records")
USERS = dataset(PROVIDER, "users")
TOTALS = dataset(PROVIDER, "user_totals")


def land_records_window(client: JtClient, day: date, lake: Lake, fetched_at: datetime) -> Landed:
    """One day of balance records, fetched whole, then landed as one file."""
    return land_records_windows(client, [day], lake, fetched_at)


def land_records_windows(
    client: JtClient,
    days: Sequence[date],
    lake: Lake,
    fetched_at: datetime,
    landed: Callable[[date, Landed], None] | None = None,
) -> Landed:
    """Each day of balance records, the days fetched at once within JT's limits (at most its
    `max_in_flight`), each fetched whole and then landed as one file (or not at all) as it
    completes; `landed(day, what)` after each."""

    def fetch(day: date, _app: str) -> Whole:
        return client.records(*day_window(day))

    def write(day: date, wholes: list[Whole]) -> Landed:
        (whole,) = wholes
        return _land_window(client, day, whole, lake, fetched_at)

    return land_days(days, [client.app_id], fetch, write, client.http.concurrency, landed)


def _land_window(
    client: JtClient, day: date, whole: Whole, lake: Lake, fetched_at: datetime
) -> Landed:
    start, end = day_window(day)
    extra = {"_window_start": start, "_window_end": end, "_fetched_at": fetched_at}
    converted = convert_rows(RECORDS.entity, client.app_id, whole.rows, extra)
    # A window read in slices reports the sum of the slices' totals.
    counts = [
        WindowCount(client.app_id, whole.total, len(converted.rows), len(converted.quarantined))
    ]
    table = pa.Table.from_pylist(converted.rows, schema=RECORDS.landed_schema())
    write_window(lake, RECORDS, day, table, converted.quarantined, fetched_at, counts)
    return Landed(
        len(converted.rows),
        len(converted.quarantined),
        whole.attempts - 1,
        1,
        sliced=int(whole.slices > 1),
        unknown_fields=converted.unknown,
    )


def land_users(client: JtClient, lake: Lake, taken_at: datetime) -> Landed:
    """The users and JT's totals, read between two reads of the records since the newest
    landed day (see store.landing.openapi.land_bracketed for why)."""
    tail_from = tail_start(lake, [RECORDS])
    # The records request needs an end: one second past now takes in everything booked so far.
    read, users = client.read_bracketed(tail_from, taken_at + timedelta(seconds=1))
    window = {"_window_start": tail_from, "_window_end": taken_at, "_fetched_at": taken_at}
    tail = convert_rows(RECORDS.entity, client.app_id, read.tails.get("records", []), window)
    complete = read.consistent and not tail.quarantined
    times = [r["create_time"] for r in tail.rows]
    extra = {
        "_snapshot_at": taken_at,
        "_fetched_at": taken_at,
        "_tail_from": tail_from if complete else None,
        "_chain_through": chain_through(complete, tail_from, times, taken_at),
    }
    converted = convert_rows(USERS.entity, client.app_id, read.rows, extra)
    snapshot = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
    totals = convert_rows(TOTALS.entity, client.app_id, [users.totals], snapshot)
    if read.tails:
        write_tail(lake, RECORDS, tail.rows, taken_at)
    quarantined = converted.quarantined + tail.quarantined
    write_snapshot(lake, USERS, converted.rows, quarantined, taken_at)
    write_snapshot(lake, TOTALS, totals.rows, totals.quarantined, taken_at)
    refused = len(quarantined) + len(totals.quarantined)
    unknown = converted.unknown + tail.unknown
    return Landed(
        len(converted.rows) + len(tail.rows),
        refused,
        read.attempts - 1,
        2,
        unknown_fields=unknown,
    )
