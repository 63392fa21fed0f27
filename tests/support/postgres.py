"""A real, throwaway PostgreSQL server from Debian's binaries, for the production profile's
tests: its own data folder, on a free loopback port, stopped and removed when the block ends.

The server is set up as an operator would for Dagster (docs/operations.md): a superuser that
only the test uses, then a login role `recon` owning a database `dagster`.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from sandbox.serve import LOOPBACK, free_port

BINARIES = Path("/usr/lib/postgresql")


def binaries() -> Path:
    """The newest installed server's bin/ (`make postgres-bin` installs one when missing)."""
    found = sorted(
        (p.parent for p in BINARIES.glob("*/bin/initdb")),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
    )
    if not found:
        raise RuntimeError(
            f"no PostgreSQL server under {BINARIES}/*/bin: run `make postgres-bin` "
            "(apt-get install postgresql)"
        )
    return found[-1]


@dataclass(frozen=True)
class Postgres:
    """A running server and the role and database Dagster is given."""

    port: int
    user: str
    password: str
    database: str
    host: str = LOOPBACK

    def environment(self) -> dict[str, str]:
        """The settings deploy/dagster.yaml reads."""
        return {
            "RECON_PG_HOST": self.host,
            "RECON_PG_PORT": str(self.port),
            "RECON_PG_DB": self.database,
            "RECON_PG_USER": self.user,
            "RECON_PG_PASSWORD": self.password,
        }

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement, over TCP as the role Dagster uses."""
        con = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
        )
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        finally:
            con.close()


def _owner() -> tuple[list[str], int, int]:
    """How to run the server's programs: PostgreSQL refuses to run as root, so as root they run
    as the `postgres` user (or `nobody`), as anyone else as themselves."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, but neither a postgres nor a nobody user exists")


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A fresh server on 127.0.0.1 with role `recon` and database `dagster`."""
    bin_dir = binaries()
    prefix, uid, gid = _owner()
    # Under /tmp rather than pytest's tmp_path: that folder is private to the user running the
    # tests, and the server's user must be able to reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="recon-pg-"))
    os.chown(root, uid, gid)
    data = root / "data"
    superuser_password = secrets.token_hex(16)
    password_file = root / "superuser-password"
    password_file.write_text(superuser_password)
    os.chown(password_file, uid, gid)
    port = free_port()
    ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        _run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8",
             "--locale=C", "--no-sync"]
        )  # fmt: skip
        password_file.unlink()
        # TCP on loopback only, no Unix socket; fsync off because nothing here must survive
        # a crash, and the machine is shared.
        options = (
            f"-c listen_addresses={LOOPBACK} -c port={port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*ctl, "-l", str(root / "server.log"), "-o", options, "-w", "-t", "60", "start"])
        started = True
        server = Postgres(port, "recon", secrets.token_hex(16), "dagster")
        _create_role_and_database(server, superuser_password)
        yield server
    finally:
        if started:
            _run([*ctl, "-m", "fast", "-w", "-t", "60", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _create_role_and_database(server: Postgres, superuser_password: str) -> None:
    """What docs/operations.md has the operator run once, as PostgreSQL's superuser."""
    con = psycopg2.connect(
        host=server.host,
        port=server.port,
        user="postgres",
        password=superuser_password,
        dbname="postgres",
    )
    con.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with con.cursor() as cur:
            cur.execute(f"create role {server.user} login password %s", (server.password,))
            cur.execute(f"create database {server.database} owner {server.user}")
    finally:
        con.close()
