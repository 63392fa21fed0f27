"""Dagster resources: the settings and clients assets use, read when a run builds them.

Nothing here reads the environment at import time. Credentials are never resource config
(config is stored with each run); they come from the environment when the client is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from assets.breaks import Settings, parse_tolerance
from connectors.http import HttpSettings, JsonHttpClient
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE

_HTTP_DEFAULTS = HttpSettings()


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where data lives: `$RECON_DATA_DIR` (default ./data) holds the lake and the warehouse."""

    data_dir: str | None = None

    def root(self) -> Path:
        return Path(self.data_dir or os.environ.get("RECON_DATA_DIR") or "data").resolve()

    def warehouse_path(self) -> Path:
        return self.root() / "warehouse.duckdb"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.root().mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.warehouse_path()))
        try:
            yield con
        finally:
            con.close()


class OpenApiResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The OPEN-API provider: `OPENAPI_*` settings, see .env.example."""

    base_url: str | None = None
    timezone: str | None = None
    page_size: int = PROFILE.max_page_size
    window_attempts: int = 2
    # Defaults come from HttpSettings so the HTTP layer states them once.
    timeout_seconds: float = _HTTP_DEFAULTS.timeout_seconds
    max_attempts: int = _HTTP_DEFAULTS.max_attempts
    backoff_base_seconds: float = _HTTP_DEFAULTS.backoff_base_seconds
    requests_per_second: float = _HTTP_DEFAULTS.requests_per_second

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAPI_BASE_URL") or None

    def is_configured(self) -> bool:
        return self.resolved_base_url() is not None

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or os.environ.get("OPENAPI_TIMEZONE") or "UTC")

    def provider_now(self) -> datetime:
        """Now on the provider's naive clock, to the second."""
        return datetime.now(self.zone()).replace(tzinfo=None, microsecond=0)

    def credentials(self) -> list[Credentials]:
        many = os.environ.get("OPENAPI_CUSTOMERS", "").strip()
        if many:
            return Credentials.parse_many(many)
        one = [os.environ.get(v, "").strip() for v in ("OPENAPI_CUSTOMER_ID", "OPENAPI_APP_ID")]
        key = os.environ.get("OPENAPI_KEY", "").strip()
        if not all(one) or not key:
            raise ValueError(
                "OPEN-API credentials missing: set OPENAPI_CUSTOMERS "
                "(customer_id:app_id:key,...) or OPENAPI_CUSTOMER_ID, OPENAPI_APP_ID, OPENAPI_KEY"
            )
        if not all(v.isdigit() for v in one):
            raise ValueError("OPENAPI_CUSTOMER_ID and OPENAPI_APP_ID must be integers")
        return [Credentials(int(one[0]), int(one[1]), key)]

    @contextmanager
    def client(self) -> Iterator[OpenApiClient]:
        base_url = self.resolved_base_url()
        if base_url is None:
            raise ValueError("OPENAPI_BASE_URL is not set")
        settings = HttpSettings(
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
            requests_per_second=self.requests_per_second,
        )
        http = JsonHttpClient(base_url, settings, PROFILE.codes)
        try:
            yield OpenApiClient(http, PROFILE, self.page_size, self.window_attempts)
        finally:
            http.close()


class ReconResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Check tolerances and the grace period: `RECON_GRACE_MINUTES`, `RECON_FX_*`."""

    grace_minutes: int | None = None
    fx_amount_tolerance: str | None = None
    fx_rate_tolerance_bps: str | None = None

    def settings(self) -> Settings:
        grace = self.grace_minutes
        if grace is None:
            text = os.environ.get("RECON_GRACE_MINUTES", "").strip() or "60"
            if not text.isdigit():
                raise ValueError(f"RECON_GRACE_MINUTES must be whole minutes, got {text!r}")
            grace = int(text)
        amount, amount_by_ccy = parse_tolerance(
            self.fx_amount_tolerance or os.environ.get("RECON_FX_AMOUNT_TOLERANCE") or "0.01",
            "RECON_FX_AMOUNT_TOLERANCE",
        )
        bps, bps_by_ccy = parse_tolerance(
            self.fx_rate_tolerance_bps or os.environ.get("RECON_FX_RATE_TOLERANCE_BPS") or "50",
            "RECON_FX_RATE_TOLERANCE_BPS",
        )
        return Settings(grace * 60, amount, bps, amount_by_ccy, bps_by_ccy)
