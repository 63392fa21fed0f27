"""The landing zone: raw provider rows as Parquet, one immutable file per window or snapshot.

`lake/provider=<p>/entity=<e>/date=YYYY-MM-DD/` holds `data.parquet` (the window's rows) and,
when some rows could not be parsed, `quarantine.parquet`. Snapshots land as `at=HHMMSS.parquet`
in the folder of the day they were taken. A reader never sees half a file and a re-run
replaces its window whole: on this machine a file is written to a temporary name and renamed
into place; in an S3 bucket (`store.objects`) it is written here, put beside its key, and
copied into place in one request.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from store import objects
from store.files import remove_stale_temporaries, write_atomically


def lake_root(data_dir: Path) -> Path:
    """The lake when `RECON_LAKE_URL` names none: a folder of the data directory."""
    return data_dir / "lake"


class Lake:
    """Where landed files live: a folder on this machine, or a prefix of an S3 bucket.

    Paths in the lake are `PurePosixPath`s: absolute paths on this machine, `bucket/prefix/…`
    keys in a bucket. `url(path)` names a file for lineage (`_source_file`).
    """

    def __init__(self, fs: pafs.FileSystem, root: PurePosixPath, scheme: str) -> None:
        self.fs = fs
        self.root = root
        self.scheme = scheme

    @classmethod
    def local(cls, root: Path) -> Lake:
        return cls(pafs.LocalFileSystem(), PurePosixPath(root.absolute()), "")

    @classmethod
    def at(cls, url: str, endpoint_url: str | None = None, region: str | None = None) -> Lake:
        """The lake a `RECON_LAKE_URL` names: `s3://bucket/prefix`, or a local folder (a path
        or `file://` URL)."""
        parts = urlsplit(url)
        if parts.scheme == "s3":
            if not parts.netloc:
                raise ValueError(f"RECON_LAKE_URL {url!r} names no bucket (s3://bucket/prefix)")
            key = PurePosixPath(parts.netloc, *[p for p in parts.path.split("/") if p])
            return cls(objects.s3(endpoint_url, region), key, "s3")
        if parts.scheme in ("", "file"):
            return cls.local(Path(parts.path if parts.scheme else url))
        raise ValueError(f"RECON_LAKE_URL must be s3://bucket/prefix or a local folder: {url!r}")

    @property
    def remote(self) -> bool:
        return bool(self.scheme)

    def url(self, path: PurePosixPath) -> str:
        return f"{self.scheme}://{path}" if self.scheme else str(path)

    def entity_dir(self, provider: str, entity: str) -> PurePosixPath:
        return self.root / f"provider={provider}" / f"entity={entity}"

    def window_dir(self, provider: str, entity: str, day: date) -> PurePosixPath:
        return self.entity_dir(provider, entity) / f"date={day.isoformat()}"

    def snapshot_path(self, provider: str, entity: str, taken_at: datetime) -> PurePosixPath:
        folder = self.window_dir(provider, entity, taken_at.date())
        return folder / f"at={taken_at.strftime('%H%M%S')}.parquet"

    def exists(self, path: PurePosixPath) -> bool:
        if not self.remote:
            return Path(path).exists()
        return bool(self.fs.get_file_info(str(path)).type == pafs.FileType.File)

    def remove(self, path: PurePosixPath) -> None:
        """Remove a file if it is there."""
        if not self.remote:
            Path(path).unlink(missing_ok=True)
        elif self.exists(path):
            self.fs.delete_file(str(path))

    def glob(self, folder: PurePosixPath, pattern: str) -> list[PurePosixPath]:
        """The files under `folder` whose path below it matches `pattern` part by part
        (`*` never crosses a `/`), e.g. `date=*/data.parquet`."""
        if not self.remote:
            return [PurePosixPath(p) for p in Path(folder).glob(pattern)]
        wanted = pattern.split("/")
        selector = pafs.FileSelector(str(folder), recursive=True, allow_not_found=True)
        found: list[PurePosixPath] = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            path = PurePosixPath(info.path)
            parts = path.relative_to(folder).parts
            if len(parts) == len(wanted) and all(map(fnmatchcase, parts, wanted)):
                found.append(path)
        return found

    def write(self, table: pa.Table, path: PurePosixPath) -> PurePosixPath:
        """Write a Parquet file so that `path` holds either the old file or the whole new one."""
        if not self.remote:
            write_atomically(Path(path), lambda tmp: pq.write_table(table, tmp))
            return path
        with tempfile.TemporaryDirectory(prefix="recon-lake-") as folder:
            local = Path(folder) / path.name
            pq.write_table(table, local)
            objects.put_atomically(self.fs, local, str(path))
        return path

    @contextmanager
    def local_copy(self, path: PurePosixPath) -> Iterator[Path]:
        """A file of the lake as a local file DuckDB can read: itself on this machine, a
        download from a bucket (removed afterwards). DuckDB never reads the bucket: it would
        need its httpfs extension, which a machine without internet cannot install."""
        if not self.remote:
            yield Path(path)
            return
        with tempfile.TemporaryDirectory(prefix="recon-lake-") as folder:
            local = Path(folder) / path.name
            objects.download(self.fs, str(path), local)
            yield local

    def replace_window(
        self,
        provider: str,
        entity: str,
        day: date,
        rows: pa.Table,
        quarantined: pa.Table,
    ) -> tuple[PurePosixPath, PurePosixPath | None]:
        """Land one window: its rows, and its quarantine file only when something was refused."""
        folder = self.window_dir(provider, entity, day)
        data_path = self.write(rows, folder / "data.parquet")
        quarantine_path = folder / "quarantine.parquet"
        if quarantined.num_rows:
            return data_path, self.write(quarantined, quarantine_path)
        self.remove(quarantine_path)
        return data_path, None

    def remove_stale_temporaries(self, older_than: float) -> list[str]:
        """Temporary files a killed writer left in the lake before `older_than` (seconds since
        the epoch): see `store.files.remove_stale_temporaries`. Returns their URLs."""
        if not self.remote:
            return [str(p) for p in remove_stale_temporaries(Path(self.root), older_than)]
        removed = objects.remove_stale(self.fs, str(self.root), older_than)
        return [self.url(PurePosixPath(key)) for key in removed]


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
    """When a window file (a local file) was fetched and its counts; none for files landed
    before they were kept."""
    metadata = pq.read_schema(path).metadata or {}
    if COUNTS_KEY not in metadata:
        return None, []
    data = json.loads(metadata[COUNTS_KEY])
    accounts = [WindowCount(**c) for c in data["accounts"]]
    return datetime.fromisoformat(data["fetched_at"]), accounts
