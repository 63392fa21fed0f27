"""Files that readers may open at any moment: written beside, synced, then renamed into place,
so a path always holds the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, fill: Callable[[Path], object]) -> Path:
    """`fill` writes a temporary file beside `path`; it replaces `path` once synced. A fill
    that fails leaves `path` as it was and no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        fill(tmp)
        fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_stale_temporaries(root: Path, older_than: float) -> list[Path]:
    """Temporary files (`.<name>.<hex>.tmp`) a killed writer left under `root`, last written
    before `older_than` (seconds since the epoch, the start of the oldest run still alive):
    no live writer can be filling them. Returns what was removed."""
    removed: list[Path] = []
    if not root.exists():
        return removed
    for tmp in root.rglob(".*.tmp"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < older_than:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:
            continue  # its writer finished meanwhile
    return removed
