"""An S3 server on loopback (moto in server mode, in this process) with one empty bucket, and
the AWS settings that point the pipeline at it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pyarrow.fs as pafs
import pytest
from moto.server import ThreadedMotoServer

BUCKET = "recon-lake"


@dataclass
class S3Server:
    endpoint_url: str
    fs: pafs.S3FileSystem

    def keys(self, prefix: str) -> list[str]:
        """Every object (not folder marker) under `bucket/prefix`, sorted."""
        selector = pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(i.path for i in infos if i.type == pafs.FileType.File)


@contextmanager
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """Moto on a free loopback port, bucket `BUCKET` created; the standard AWS variables say
    where it is and how to sign (moto takes any key), and nothing reaches a real AWS."""
    # Moto logs every request through werkzeug; a failing test's output keeps to the point.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # Moto keeps its buckets in the process, not the server: start from none.
        httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            # No instance metadata lookups, no profile from the machine's ~/.aws.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
            monkeypatch.delenv(name, raising=False)
        fs = pafs.S3FileSystem(
            scheme="http", endpoint_override=f"{host}:{port}", allow_bucket_creation=True
        )
        fs.create_dir(BUCKET)
        yield S3Server(endpoint, fs)
    finally:
        server.stop()
