"""What every provider's landing shares: counts, and writing windows and snapshots.

A window lands whole or not at all (every account fetched before anything is written); a
snapshot lands as one file per reading; refused rows land beside the data they came with.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from connectors.schema import QUARANTINE_SCHEMA
from store.datasets import Dataset, tail_entity
from store.lake import Lake, WindowCount, with_counts


@dataclass
class Landed:
    """What a landing step wrote. `refetched`: list reads beyond the first (a window or
    snapshot read again); `sliced`: windows that kept shifting and were read in time slices;
    `unknown_fields`: fields of provider rows no schema knows, with the rows carrying each."""

    rows: int = 0
    quarantined: int = 0
    refetched: int = 0
    files: int = 0
    sliced: int = 0
    unknown_fields: Counter[str] = field(default_factory=Counter)

    def add(self, other: "Landed") -> None:
        self.rows += other.rows
        self.quarantined += other.quarantined
        self.refetched += other.refetched
        self.files += other.files
        self.sliced += other.sliced
        self.unknown_fields.update(other.unknown_fields)

    def unknown(self) -> str:
        """The unknown fields as `name (N rows), ...`, or "" when there are none."""
        return ", ".join(f"{n} ({c} rows)" for n, c in sorted(self.unknown_fields.items()))

    def summary(self) -> str:
        """The progress line's account of a window or reading."""
        text = f"{self.rows} rows, {self.quarantined} quarantined"
        if self.sliced:
            text += f", {self.sliced} windows read in time slices (they kept shifting)"
        if self.unknown_fields:
            text += f"; unknown fields dropped: {self.unknown()}"
        return text

    def metadata(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "quarantined": self.quarantined,
            "refetched_windows": self.refetched,
            "sliced_windows": self.sliced,
            "files": self.files,
            # Field name -> rows that carried it (JSON in the Dagster UI).
            "unknown_fields": dict(sorted(self.unknown_fields.items())),
        }


def quarantine_table(
    provider: str,
    rows: list[dict[str, Any]],
    start: datetime | None,
    end: datetime | None,
    fetched_at: datetime,
) -> pa.Table:
    lineage = {"provider": provider, "window_start": start, "window_end": end}
    full = [{**r, **lineage, "fetched_at": fetched_at} for r in rows]
    return pa.Table.from_pylist(full, schema=QUARANTINE_SCHEMA)


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day)
    return start, start + timedelta(days=1)


def window_table(
    ds: Dataset, day: date, parts: Sequence[pa.Table], fetched_at: datetime
) -> pa.Table:
    """A day window's converted rows (each account's columns, `connectors.schema.Columns`)
    with the lineage columns, as landed: one chunk, the landed schema, so the file is the
    same whether the rows came columnwise or one by one."""
    start, end = day_window(day)
    schema = ds.landed_schema()
    own = [name for name in schema.names if name not in ds.landed_columns()]
    table = pa.concat_tables(parts) if parts else schema.empty_table().select(own)
    lineage = {"_window_start": start, "_window_end": end, "_fetched_at": fetched_at}
    for name, value in lineage.items():
        field = schema.field(name)
        table = table.append_column(field, pa.repeat(pa.scalar(value, field.type), table.num_rows))
    return table.select(schema.names).cast(schema).combine_chunks()


def write_window(
    lake: Lake,
    ds: Dataset,
    day: date,
    table: pa.Table,
    quarantined: list[dict[str, Any]],
    fetched_at: datetime,
    counts: list[WindowCount],
) -> None:
    """Replace one day window's file (and its quarantine) with these rows (`table`, in the
    landed schema), carrying each account's API total and counts (the incomplete_window
    check compares them later)."""
    start, end = day_window(day)
    table = with_counts(table, fetched_at, counts)
    q_table = quarantine_table(ds.provider, quarantined, start, end, fetched_at)
    lake.replace_window(ds.provider, ds.entity, day, table, q_table)


def write_snapshot(
    lake: Lake,
    ds: Dataset,
    rows: list[dict[str, Any]],
    quarantined: list[dict[str, Any]],
    taken_at: datetime,
) -> None:
    """One reading of a snapshot entity, and the rows it refused beside it."""
    path = lake.snapshot_path(ds.provider, ds.entity, taken_at)
    lake.write(pa.Table.from_pylist(rows, schema=ds.landed_schema()), path)
    if quarantined:
        q_path = path.with_name(path.stem + ".quarantine.parquet")
        table = quarantine_table(ds.provider, quarantined, None, None, taken_at)
        lake.write(table, q_path)


def write_tail(lake: Lake, ds: Dataset, rows: list[dict[str, Any]], taken_at: datetime) -> None:
    """Rows of a windowed entity read with a snapshot, landed beside it as `<entity>_tail`."""
    path = lake.snapshot_path(ds.provider, tail_entity(ds.entity), taken_at)
    lake.write(pa.Table.from_pylist(rows, schema=ds.landed_schema()), path)


def newest_window_end(lake: Lake, ds: Dataset) -> datetime | None:
    """End of the newest day window of a dataset landed so far (where its tail starts)."""
    folder = lake.entity_dir(ds.provider, ds.entity)
    days = [date.fromisoformat(p.parent.name[5:]) for p in lake.glob(folder, "date=*/data.parquet")]
    return day_window(max(days))[1] if days else None


def tail_start(lake: Lake, tails: list[Dataset]) -> datetime | None:
    """Where the tails start: after the newest window that every tail dataset has landed."""
    ends = [newest_window_end(lake, ds) for ds in tails]
    return None if any(end is None for end in ends) else min(e for e in ends if e)


def chain_through(
    complete: bool, tail_from: datetime | None, times: list[datetime], taken_at: datetime
) -> datetime | None:
    """How far the loaded rows are known complete after a bracketed reading (or None).

    A tail that would start after the reading (a day window landed ahead of the provider's
    clock) read nothing that could vouch for the chain.
    """
    if not complete or tail_from is None or tail_from > taken_at:
        return None
    return max(times) if times else tail_from - timedelta(seconds=1)
