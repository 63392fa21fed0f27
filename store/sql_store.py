"""What the project's small SQL stores share (the analysts' workflow store, the webhook
events): a URL naming SQLite or PostgreSQL, opened through SQLAlchemy Core, and errors that
name the setting and the host, never the URL's password."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def describe(url: str, setting: str) -> str:
    """The URL as a message may show it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return f"(a {setting} that is no database URL)"


def driver_error(exc: SQLAlchemyError) -> str:
    """The driver's own first line (it names host and role, never the password)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


@dataclass(frozen=True)
class Opened:
    engine: Engine
    # The SQLite file, or None for PostgreSQL.
    sqlite_path: Path | None


def open_store(
    url: str, setting: str, what: str, error: type[Exception], read_only: bool = False
) -> Opened:
    """An engine for the store `what` at `url` (the value of `setting`), or `error` saying
    why not. `read_only` opens an SQLite file in SQLite's own read-only mode, so a reader can
    never write or create it (PostgreSQL readers ask per connection)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise error(f"{setting} is not a database URL (sqlite:///… or postgresql://…)") from None
    sqlite_path: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise error(f"the {what} needs a file, not an in-memory SQLite")
        sqlite_path = Path(parsed.database)
        if read_only:
            parsed = parsed.set(
                database=f"file:{parsed.database}", query={"mode": "ro", "uri": "true"}
            )
    elif parsed.get_backend_name() != "postgresql":
        raise error(f"{setting}: only sqlite and postgresql stores are supported")
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return Opened(sa.create_engine(parsed, pool_pre_ping=True), sqlite_path)
