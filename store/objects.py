"""Files in an S3 bucket (or any server speaking its protocol), through `pyarrow.fs`.

Keys are `bucket/key` strings. A file is put whole: written on this machine first, uploaded
beside its key under a temporary name, checked, then copied into place by the server in one
request, so a reader sees the old object or the whole new one, never a part.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs


def s3(endpoint_url: str | None = None, region: str | None = None) -> pafs.S3FileSystem:
    """An S3 client. Credentials come the AWS SDK's usual way (`AWS_ACCESS_KEY_ID` and
    `AWS_SECRET_ACCESS_KEY`, a profile, an instance or pod role); `endpoint_url` names a server
    other than AWS (MinIO, Ceph, a test server), e.g. `http://127.0.0.1:9000`."""
    options: dict[str, Any] = {}
    if endpoint_url:
        parts = urlsplit(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the lake's endpoint must be an http(s) URL: {endpoint_url!r}")
        options.update(scheme=parts.scheme, endpoint_override=parts.netloc)
    if region:
        options["region"] = region
    return pafs.S3FileSystem(**options)


def put_atomically(fs: pafs.FileSystem, local: Path, key: str) -> None:
    """Put the local file `local` at `key`, whole or not at all.

    pyarrow's output streams publish what they hold when closed, even when closed by an
    exception half way, and a multipart upload cannot be aborted from Python: an upload cut
    short could complete as a truncated object. So the bytes go to a temporary key beside
    (`.<name>.<hex>.tmp`, which no reader's pattern matches), their size is checked, and the
    server copies them into place in one request (CopyObject replaces an object atomically).
    """
    parent, _, name = key.rpartition("/")
    tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        pafs.copy_files(
            str(local), tmp, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
        )
        stored, written = fs.get_file_info(tmp).size, local.stat().st_size
        if stored != written:
            raise OSError(f"uploading {key} stored {stored} of {written} bytes; left as it was")
        fs.copy_file(tmp, key)
    finally:
        # What a failed cleanup leaves, remove_stale removes on a later run.
        with contextlib.suppress(OSError):
            fs.delete_file(tmp)


def download(fs: pafs.FileSystem, key: str, local: Path) -> None:
    pafs.copy_files(
        key, str(local), source_filesystem=fs, destination_filesystem=pafs.LocalFileSystem()
    )


def remove_stale(fs: pafs.FileSystem, root: str, older_than: float) -> list[str]:
    """Temporary objects (`.<name>.<hex>.tmp`) under `root` a killed writer left, last written
    before `older_than` (seconds since the epoch): no live writer is filling them. Returns
    the keys removed."""
    removed: list[str] = []
    selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
    for info in fs.get_file_info(selector):
        stale = info.mtime is not None and info.mtime.timestamp() < older_than
        if info.type == pafs.FileType.File and _temporary(info.base_name) and stale:
            with contextlib.suppress(FileNotFoundError):  # its writer finished meanwhile
                fs.delete_file(info.path)
                removed.append(info.path)
    return removed


def _temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")
