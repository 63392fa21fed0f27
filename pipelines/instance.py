"""The Dagster instance `recon` runs against, opened safely.

`$DAGSTER_HOME` when set (the production profile), else the warehouse's own folder with this
repository's `dagster.yaml`. Opening an instance for the first time creates its storage;
two first runs at once (a cron job and a hand-started run) would both try, and one would
die with "table runs already exists". A file lock in the folder makes them take turns.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import dagster as dg

from assets.resources import WarehouseResource

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCK = ".recon-instance.lock"


def instance_at(folder: Path) -> dg.DagsterInstance:
    """The instance whose `dagster.yaml` is in `folder`, its storage created under a lock."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return dg.DagsterInstance.from_config(str(folder))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError as exc:  # read-only, not a folder, full, ...
        raise ValueError(
            f"cannot write the Dagster instance in {folder} ({exc.strerror}): make it writable "
            "for this user, or point RECON_DATA_DIR (or DAGSTER_HOME) at a folder that is"
        ) from None


def open_instance(warehouse: WarehouseResource) -> dg.DagsterInstance:
    """The configured instance: `$DAGSTER_HOME`, else `warehouse.dagster_home()`."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return instance_at(Path(home))
    folder = warehouse.dagster_home()
    config = PROJECT_ROOT / "dagster.yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if config.exists() and not (folder / "dagster.yaml").exists():
            shutil.copy(config, folder / "dagster.yaml")
    except OSError as exc:
        raise ValueError(
            f"cannot write to {folder} ({exc.strerror}): make {warehouse.root()} writable for "
            "this user, or set RECON_DATA_DIR to a folder that is"
        ) from None
    return instance_at(folder)
