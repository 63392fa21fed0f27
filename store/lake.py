"""The landing zone: raw provider rows as Parquet, one immutable file per window or snapshot.

`lake/provider=<p>/entity=<e>/date=YYYY-MM-DD/` holds `data.parquet` (the window's rows) and,
when some rows could not be parsed, `quarantine.parquet`. Snapshots land as `at=HHMMSS.parquet`
in the folder of the day they were taken. Files are written to a temporary name and renamed
into place, so a reader never sees half a file and a re-run replaces its window whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from store.files import write_atomically


def lake_root(data_dir: Path) -> Path:
    return data_dir / "lake"


def entity_dir(data_dir: Path, provider: str, entity: str) -> Path:
    return lake_root(data_dir) / f"provider={provider}" / f"entity={entity}"


def window_dir(data_dir: Path, provider: str, entity: str, day: date) -> Path:
    return entity_dir(data_dir, provider, entity) / f"date={day.isoformat()}"


def snapshot_path(data_dir: Path, provider: str, entity: str, taken_at: datetime) -> Path:
    folder = window_dir(data_dir, provider, entity, taken_at.date())
    return folder / f"at={taken_at.strftime('%H%M%S')}.parquet"


def write_atomic(table: pa.Table, path: Path) -> Path:
    """Write a Parquet file so that `path` holds either the old file or the whole new one."""
    return write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def replace_window(
    data_dir: Path,
    provider: str,
    entity: str,
    day: date,
    rows: pa.Table,
    quarantined: pa.Table,
) -> tuple[Path, Path | None]:
    """Land one window: its rows, and its quarantine file only when something was refused."""
    folder = window_dir(data_dir, provider, entity, day)
    data_path = write_atomic(rows, folder / "data.parquet")
    quarantine_path = folder / "quarantine.parquet"
    if quarantined.num_rows:
        return data_path, write_atomic(quarantined, quarantine_path)
    quarantine_path.unlink(missing_ok=True)
    return data_path, None


@dataclass(frozen=True)
class WindowCount:
    """What one account's read of a window said and gave: the API's `total`, the rows landed
    and the rows refused. Kept in the window file itself, so the counts and the rows they
    describe are replaced together, atomically."""

    account_id: str
    api_total: int
    rows: int
    quarantined: int


COUNTS_KEY = b"recon.window_counts"


def with_counts(table: pa.Table, fetched_at: datetime, counts: list[WindowCount]) -> pa.Table:
    data = {"fetched_at": fetched_at.isoformat(), "accounts": [asdict(c) for c in counts]}
    text = json.dumps(data, sort_keys=True).encode()
    return table.replace_schema_metadata({**(table.schema.metadata or {}), COUNTS_KEY: text})


def read_counts(path: Path) -> tuple[datetime | None, list[WindowCount]]:
    """When a window file was fetched and its counts; none for files landed before they
    were kept."""
    metadata = pq.read_schema(path).metadata or {}
    if COUNTS_KEY not in metadata:
        return None, []
    data = json.loads(metadata[COUNTS_KEY])
    accounts = [WindowCount(**c) for c in data["accounts"]]
    return datetime.fromisoformat(data["fetched_at"]), accounts
