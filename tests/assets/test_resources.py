"""Where the lake is: one setting, `RECON_LAKE_URL`, owned by the warehouse resource."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assets.resources import WarehouseResource


@pytest.fixture(autouse=True)
def _no_lake_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECON_LAKE_URL", "RECON_LAKE_ENDPOINT_URL", "RECON_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_the_lake_is_in_the_data_dir_unless_recon_lake_url_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = WarehouseResource(data_dir=str(tmp_path))
    lake = warehouse.lake()
    assert not lake.remote and lake.url(lake.root) == str(tmp_path / "lake")
    monkeypatch.setenv("RECON_LAKE_URL", "s3://recon/nightly")
    monkeypatch.setenv("RECON_LAKE_ENDPOINT_URL", "http://127.0.0.1:9")
    lake = warehouse.lake()
    assert lake.remote and lake.url(lake.root / "x.parquet") == "s3://recon/nightly/x.parquet"
    # A run's config wins over the environment.
    elsewhere = WarehouseResource(data_dir=str(tmp_path), lake_url=str(tmp_path / "other"))
    assert elsewhere.lake().url(elsewhere.lake().root) == str(tmp_path / "other")


def test_the_demo_lake_stays_local_whatever_recon_lake_url_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECON_LAKE_URL", "s3://recon/nightly")
    demo = WarehouseResource(data_dir=str(tmp_path)).demo()
    assert not demo.lake().remote
    assert demo.lake().url(demo.lake().root) == str(tmp_path / "demo" / "lake")


def test_stale_temporaries_of_a_lake_outside_the_data_dir_are_removed_too(tmp_path: Path) -> None:
    warehouse = WarehouseResource(data_dir=str(tmp_path / "data"), lake_url=str(tmp_path / "lake"))
    left = [
        tmp_path / "data" / "work" / ".x.1.tmp",
        tmp_path / "lake" / "p" / ".data.parquet.2.tmp",
    ]
    for path in left:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"PAR1")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    assert sorted(warehouse.remove_stale_temporaries(time.time())) == sorted(map(str, left))
    assert not any(p.exists() for p in left)
