"""The lake in an S3 bucket: files land whole or not at all, are found by the same patterns
as on disk, and keep the window counts they carry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from store import lake
from store.lake import Lake, WindowCount
from tests.support.s3 import BUCKET, S3Server, s3_server

DAY = date(2026, 11, 9)
FETCHED = datetime(2026, 11, 10, 2, 0, 0)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    with s3_server(monkeypatch) as server:
        yield server


def bucket_lake(s3: S3Server) -> Lake:
    return Lake.at(f"s3://{BUCKET}/nightly/lake", s3.endpoint_url, "us-east-1")


def rows(*ids: str) -> pa.Table:
    return pa.table({"transaction_id": list(ids)})


def test_a_window_lands_in_the_bucket_with_its_counts(s3: S3Server) -> None:
    landing = bucket_lake(s3)
    counts = [WindowCount("1001", api_total=3, rows=2, quarantined=1)]
    table = lake.with_counts(rows("a", "b"), FETCHED, counts)
    data, refused = landing.replace_window("openapi", "transactions", DAY, table, rows("c"))
    assert data == landing.window_dir("openapi", "transactions", DAY) / "data.parquet"
    assert landing.url(data) == f"s3://{data}" and str(data).startswith(f"{BUCKET}/nightly/lake/")
    assert landing.exists(data) and refused is not None and landing.exists(refused)
    with landing.local_copy(data) as file:
        assert pq.read_table(file).column("transaction_id").to_pylist() == ["a", "b"]
        assert lake.read_counts(file) == (FETCHED, counts)
    # A later landing that refuses nothing takes the old quarantine file away.
    landing.replace_window("openapi", "transactions", DAY, table, rows())
    assert not landing.exists(refused)
    prefix = "nightly/lake/provider=openapi/entity=transactions"
    assert s3.keys(prefix) == [f"{BUCKET}/{prefix}/date=2026-11-09/data.parquet"]


def test_snapshots_are_found_by_the_patterns_used_on_disk(s3: S3Server, tmp_path: Path) -> None:
    for landing in (bucket_lake(s3), Lake.local(tmp_path / "lake")):
        for hour in (3, 1):
            path = landing.snapshot_path("openapi", "wallets", datetime(2026, 11, 9, hour))
            landing.write(rows("w"), path)
            landing.write(rows("q"), path.with_name(path.stem + ".quarantine.parquet"))
        landing.write(rows("w"), landing.snapshot_path("openapi", "cards", FETCHED))
        folder = landing.entity_dir("openapi", "wallets")
        found = sorted(p.relative_to(folder) for p in landing.glob(folder, "date=*/at=*.parquet"))
        assert [str(p) for p in found] == [
            "date=2026-11-09/at=010000.parquet",
            "date=2026-11-09/at=010000.quarantine.parquet",
            "date=2026-11-09/at=030000.parquet",
            "date=2026-11-09/at=030000.quarantine.parquet",
        ]
        assert landing.glob(folder, "date=*/data.parquet") == []
        assert landing.glob(landing.entity_dir("openapi", "orders"), "date=*/at=*.parquet") == []


def test_a_write_that_fails_leaves_the_old_object_and_nothing_beside_it(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = bucket_lake(s3)
    path = landing.window_dir("openapi", "transactions", DAY) / "data.parquet"
    landing.write(rows("old"), path)
    before = s3.keys("nightly")

    def half_then_fail(table: pa.Table, where: Any, **kwargs: Any) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(pq, "write_table", half_then_fail)
        with pytest.raises(RuntimeError, match="disk full"):
            landing.write(rows("new"), path)
        # A window never landed before: no object at all.
        with pytest.raises(RuntimeError, match="disk full"):
            landing.write(rows("new"), path.with_name("quarantine.parquet"))
    assert s3.keys("nightly") == before
    with landing.local_copy(path) as file:
        assert pq.read_table(file).column("transaction_id").to_pylist() == ["old"]


def test_an_upload_cut_short_never_replaces_the_object(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow completes an upload when its stream is closed, even half way: what reaches the
    bucket is checked before it is copied into place."""
    landing = bucket_lake(s3)
    path = landing.window_dir("openapi", "transactions", DAY) / "data.parquet"
    landing.write(rows("old"), path)
    before = s3.keys("nightly")
    copy_files = pafs.copy_files

    def truncated(source: str, destination: str, **kwargs: Any) -> None:
        half = Path(source).with_name("half")
        half.write_bytes(Path(source).read_bytes()[:10])
        copy_files(str(half), destination, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pafs, "copy_files", truncated)
        with pytest.raises(OSError, match="stored 10 of"):
            landing.write(rows("new", "rows"), path)
    assert s3.keys("nightly") == before
    with landing.local_copy(path) as file:
        assert pq.read_table(file).column("transaction_id").to_pylist() == ["old"]


def test_temporaries_a_killed_writer_left_are_removed_once_stale(s3: S3Server) -> None:
    landing = bucket_lake(s3)
    folder = landing.window_dir("openapi", "transactions", DAY)
    landing.write(rows("kept"), folder / "data.parquet")
    left = f"{folder}/.data.parquet.0f0f.tmp"
    with s3.fs.open_output_stream(left) as out:
        out.write(b"PAR1")
    assert landing.remove_stale_temporaries(time.time() - 3600) == []
    assert landing.remove_stale_temporaries(time.time() + 60) == [f"s3://{left}"]
    assert s3.keys("nightly") == [f"{folder}/data.parquet"]


def test_the_lake_url_names_a_bucket_or_a_folder(tmp_path: Path) -> None:
    assert Lake.at(str(tmp_path)).root == Lake.local(tmp_path).root
    assert Lake.at(f"file://{tmp_path}/lake").url(Lake.local(tmp_path).root) == str(tmp_path)
    assert Lake.at("s3://bucket/a/b/", "http://127.0.0.1:1").root.as_posix() == "bucket/a/b"
    for bad in ("s3:///prefix", "gs://bucket/prefix"):
        with pytest.raises(ValueError, match="RECON_LAKE_URL"):
            Lake.at(bad)
    with pytest.raises(ValueError, match="endpoint"):
        Lake.at("s3://bucket", "ftp://host")
