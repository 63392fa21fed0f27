"""Dagster resources: the settings and clients assets use, read when a run builds them.

Nothing here reads the environment at import time. Credentials are never resource config
(config is stored with each run); they come from the environment when the client is built.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from connectors.http import BusinessCodes, HttpSettings, JsonHttpClient
from connectors.jt.client import JtClient
from connectors.jt.profile import PROFILE as JT
from connectors.jt.signing import Signer
from connectors.limits import shared_limiter
from connectors.notify import EmailSink, LogSink, Retry, Sink, Smtp, slack_sink, webhook_sink
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE as OPENAPI
from connectors.whalet.client import WhaletClient, WhaletCredentials
from connectors.whalet.profile import PROFILE as WHALET
from outputs.alert_rules import SEVERITIES
from store.breaks import Settings, parse_tolerance
from store.files import remove_stale_temporaries
from store.lake import Lake, lake_root
from store.sql_store import sqlite_url
from store.warehouse import open_working
from store.webhook_store import SETTING as WEBHOOK_SETTING
from store.workflow_store import SETTING as WORKFLOW_SETTING

_HTTP_DEFAULTS = HttpSettings()
N = TypeVar("N", int, float)
DEFAULT_LOOKBACK_DAYS = 3
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where data lives: `$RECON_DATA_DIR` (default ./data) holds the lake, the working
    warehouse the pipeline writes (`work/warehouse.duckdb`), the snapshot analysts open
    read-only (`warehouse.duckdb`, replaced atomically after each run's checks), the alert
    state, reports, the analysts' workflow store (`workflow/`, unless `RECON_WORKFLOW_URL`
    names a database) and, unless `DAGSTER_HOME` says otherwise, the Dagster instance. Every
    path under it is named here and nowhere else.

    The lake may live elsewhere: `RECON_LAKE_URL` (`s3://bucket/prefix`, or a local folder)
    with `RECON_LAKE_ENDPOINT_URL` for an S3 server other than AWS (else `AWS_ENDPOINT_URL_S3`
    or `AWS_ENDPOINT_URL`); region and credentials come the AWS SDK's usual way
    (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, a profile or a role)."""

    data_dir: str | None = None
    lake_url: str | None = None
    lake_endpoint_url: str | None = None

    def root(self) -> Path:
        return Path(self.data_dir or os.environ.get("RECON_DATA_DIR") or "data").resolve()

    def lake(self) -> Lake:
        url = (self.lake_url or os.environ.get("RECON_LAKE_URL", "")).strip()
        if not url:
            return Lake.local(lake_root(self.root()))
        endpoint = self.lake_endpoint_url or _first_env(
            "RECON_LAKE_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"
        )
        return Lake.at(
            url, endpoint or None, _first_env("AWS_REGION", "AWS_DEFAULT_REGION") or None
        )

    def warehouse_path(self) -> Path:
        return self.root() / "work" / "warehouse.duckdb"

    def published_path(self) -> Path:
        return self.root() / "warehouse.duckdb"

    def snapshot_slots(self) -> Path:
        """The two snapshot files the published one is a hard link to, alternately
        (store.publish): beside it, on the same file system."""
        return self.root() / "snapshots"

    def alerts_dir(self) -> Path:
        return self.root() / "alerts"

    def reports_dir(self) -> Path:
        return self.root() / "reports"

    def dagster_home(self) -> Path:
        return self.root() / "dagster"

    def workflow_path(self) -> Path:
        """The default workflow store (SQLite): what analysts did with each break."""
        return self.root() / "workflow" / "workflow.sqlite"

    def workflow_url(self) -> str:
        """`RECON_WORKFLOW_URL` (the production PostgreSQL, postgresql://…) when set, else
        the SQLite file under the data directory. Read from the environment only: the URL
        may hold a password, and resource config is stored with every run."""
        return os.environ.get(WORKFLOW_SETTING, "").strip() or sqlite_url(self.workflow_path())

    def webhook_path(self) -> Path:
        """The default webhook store (SQLite): provider notifications kept as re-pull hints."""
        return self.root() / "webhooks" / "events.sqlite"

    def webhook_url(self) -> str:
        """`RECON_WEBHOOK_STORE_URL` (e.g. the production PostgreSQL) when set, else the SQLite
        file under the data directory; from the environment only, as the workflow store's."""
        return os.environ.get(WEBHOOK_SETTING, "").strip() or sqlite_url(self.webhook_path())

    def demo(self) -> WarehouseResource:
        """The demo's own warehouse, `demo/` under this one, its lake in it whatever
        `RECON_LAKE_URL` says: sandbox rows never mix with a real provider's."""
        root = self.root() / "demo"
        return WarehouseResource(data_dir=str(root), lake_url=str(lake_root(root)))

    def clear(self) -> None:
        """Remove the local lake, both warehouse files and the alert state (the demo starts
        afresh; the Dagster instance and its run history stay)."""
        for folder in (
            lake_root(self.root()),
            self.warehouse_path().parent,
            self.snapshot_slots(),
            self.alerts_dir(),
        ):
            shutil.rmtree(folder, ignore_errors=True)
        self.published_path().unlink(missing_ok=True)

    def remove_stale_temporaries(self, older_than: float) -> list[str]:
        """Temporary files killed writers left under the data directory and in the lake,
        last written before `older_than` (see `store.files.remove_stale_temporaries`)."""
        removed = [str(p) for p in remove_stale_temporaries(self.root(), older_than)]
        lake = self.lake()
        if lake.remote or not Path(lake.root).is_relative_to(self.root()):
            removed += lake.remove_stale_temporaries(older_than)
        return removed

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_working(self.warehouse_path(), self.published_path())
        try:
            yield con
        finally:
            con.close()


def _first_env(*names: str) -> str:
    return next((v for n in names if (v := os.environ.get(n, "").strip())), "")


class _ProviderResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Settings every provider has: where it is, its clock, and how hard to try.

    Each field left unset is read from the environment (`<PREFIX>_<FIELD>`) when the run
    builds the resource. Secrets are never fields (resource config is stored with each run):
    a field may name the file that holds one.
    """

    base_url: str | None = None
    timezone: str | None = None
    window_attempts: int = 2
    # A time window that keeps shifting is read in halves, down to slices this short.
    min_slice_seconds: int = 60
    # Defaults come from HttpSettings so the HTTP layer states them once.
    timeout_seconds: float = _HTTP_DEFAULTS.timeout_seconds
    max_attempts: int = _HTTP_DEFAULTS.max_attempts
    backoff_base_seconds: float = _HTTP_DEFAULTS.backoff_base_seconds
    # The provider's limits, shared by every request of a run to it (connectors.limits);
    # unset: `<PREFIX>_MAX_IN_FLIGHT`, `<PREFIX>_REQUESTS_PER_SECOND`, else HttpSettings'.
    max_in_flight: int | None = None
    requests_per_second: float | None = None

    # The environment prefix of this provider's settings, e.g. "OPENAPI", its name, and
    # the settings it needs besides its base URL (for the message when none is configured).
    _prefix: ClassVar[str] = ""
    label: ClassVar[str] = ""
    needs: ClassVar[str] = ""

    def env(self, name: str) -> str:
        return os.environ.get(f"{self._prefix}_{name}", "").strip()

    def resolved_base_url(self) -> str | None:
        return self.field_or_env(self.base_url, "BASE_URL") or None

    def is_configured(self) -> bool:
        return self.resolved_base_url() is not None

    def setting(self, name: str) -> str:
        """The environment variable of one setting, e.g. `OPENAPI_BASE_URL`."""
        return f"{self._prefix}_{name}"

    def field_or_env(self, value: str | None, name: str) -> str:
        return (value or "").strip() or self.env(name)

    def secret_file(self, path: str, name: str) -> str:
        """The secret in the file at `path` (named by the `name` setting), stripped."""
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ValueError(f"{self.setting(name)}: cannot read {path} ({exc.strerror})") from None

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.field_or_env(self.timezone, "TIMEZONE") or "UTC")

    def provider_now(self) -> datetime:
        """Now on the provider's naive clock, to the second."""
        return datetime.now(self.zone()).replace(tzinfo=None, microsecond=0)

    def http(self, codes: BusinessCodes) -> JsonHttpClient:
        base_url = self.resolved_base_url()
        if base_url is None:
            raise ValueError(f"{self._prefix}_BASE_URL is not set")
        settings = HttpSettings(
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
            max_in_flight=self.limit(
                self.max_in_flight, "MAX_IN_FLIGHT", int, _HTTP_DEFAULTS.max_in_flight, 1
            ),
            requests_per_second=self.limit(
                self.requests_per_second,
                "REQUESTS_PER_SECOND",
                float,
                _HTTP_DEFAULTS.requests_per_second,
                0.0,
            ),
        )
        limiter = shared_limiter(base_url, settings.max_in_flight, settings.requests_per_second)
        return JsonHttpClient(base_url, settings, codes, limiter=limiter)

    def limit(
        self, value: N | None, name: str, kind: Callable[[str], N], default: N, least: N
    ) -> N:
        """A limit: the field, else its environment variable, else the default."""
        if value is not None:
            return value
        text = self.env(name)
        if not text:
            return default
        try:
            number: N | None = kind(text)
        except ValueError:
            number = None
        # `not >=` also refuses nan.
        if number is None or not number >= least:
            raise ValueError(
                f"{self.setting(name)} must be a number of at least {least}, got {text!r}"
            )
        return number


def no_provider_configured(providers: Sequence[_ProviderResource]) -> str | None:
    """Why a run would check nothing, or None when some provider is configured. A run that
    loads nothing must not pass for a clean night."""
    if any(p.is_configured() for p in providers):
        return None
    each = "; ".join(f"{p.setting('BASE_URL')} with {p.needs}" for p in providers)
    return (
        f"no provider is configured, so there is nothing to reconcile: set {each} "
        "(see .env.example; `recon` reads ./.env). `recon demo` runs on the embedded sandbox."
    )


class OpenApiResource(_ProviderResource):
    """The OPEN-API provider: `OPENAPI_*` settings, see .env.example. Customers come from
    `customers_file` (`OPENAPI_CUSTOMERS_FILE`, one `customer_id:app_id:key` per line or
    comma), else `OPENAPI_CUSTOMERS`, else `OPENAPI_CUSTOMER_ID`, `_APP_ID` and `_KEY`."""

    page_size: int = OPENAPI.max_page_size
    customers_file: str | None = None
    _prefix: ClassVar[str] = "OPENAPI"
    label: ClassVar[str] = "OPEN-API"
    needs: ClassVar[str] = "OPENAPI_CUSTOMERS (or OPENAPI_CUSTOMERS_FILE)"

    def credentials(self) -> list[Credentials]:
        path = self.field_or_env(self.customers_file, "CUSTOMERS_FILE")
        many = self.secret_file(path, "CUSTOMERS_FILE") if path else self.env("CUSTOMERS")
        if many:
            return Credentials.parse_many(",".join(many.split()))
        one = [self.env(v) for v in ("CUSTOMER_ID", "APP_ID")]
        key = self.env("KEY")
        if not all(one) or not key:
            raise ValueError(
                "OPEN-API credentials missing: set OPENAPI_CUSTOMERS "
                "(customer_id:app_id:key,...), OPENAPI_CUSTOMERS_FILE, or OPENAPI_CUSTOMER_ID, "
                "OPENAPI_APP_ID, OPENAPI_KEY"
            )
        if not all(v.isdigit() for v in one):
            raise ValueError("OPENAPI_CUSTOMER_ID and OPENAPI_APP_ID must be integers")
        return [Credentials(int(one[0]), int(one[1]), key)]

    @contextmanager
    def client(self) -> Iterator[OpenApiClient]:
        http = self.http(OPENAPI.codes)
        try:
            yield OpenApiClient(
                http,
                OPENAPI,
                self.page_size,
                self.window_attempts,
                self.min_slice_seconds,
                self.credentials(),
            )
        finally:
            http.close()


class JtResource(_ProviderResource):
    """The JT wallet: `JT_BASE_URL`, `JT_APP_ID`, `JT_PRIVATE_KEY_FILE`, `JT_TIMEZONE`.

    The private key is read from its file when a client is built and stays in the signer.
    """

    page_size: int = JT.max_page_size
    app_id: str | None = None
    private_key_file: str | None = None
    _prefix: ClassVar[str] = "JT"
    label: ClassVar[str] = "JT"
    needs: ClassVar[str] = "JT_APP_ID and JT_PRIVATE_KEY_FILE"

    @contextmanager
    def client(self) -> Iterator[JtClient]:
        app_id = self.field_or_env(self.app_id, "APP_ID")
        key_file = self.field_or_env(self.private_key_file, "PRIVATE_KEY_FILE")
        if not app_id or not key_file:
            raise ValueError("JT credentials missing: set JT_APP_ID and JT_PRIVATE_KEY_FILE")
        signer = Signer.from_file(Path(key_file))
        http = self.http(JT.codes)
        try:
            yield JtClient(
                http,
                app_id,
                signer,
                JT,
                self.page_size,
                self.window_attempts,
                min_slice_seconds=self.min_slice_seconds,
            )
        finally:
            http.close()


class WhaletResource(_ProviderResource):
    """Whalet: `WHALET_BASE_URL`, `WHALET_PARTNER_ID`, `WHALET_CLIENT_ID`, `WHALET_SECRET_KEY`
    (or the file `WHALET_SECRET_KEY_FILE`), `WHALET_USER_IDS` (comma separated), and
    `WHALET_USER_IDS_COMPLETE` (`true` when those are every user of the platform)."""

    partner_id: str | None = None
    client_id: str | None = None
    secret_key_file: str | None = None
    user_ids: str | None = None
    user_ids_complete: bool | None = None
    _prefix: ClassVar[str] = "WHALET"
    label: ClassVar[str] = "Whalet"
    needs: ClassVar[str] = "WHALET_PARTNER_ID, WHALET_CLIENT_ID and WHALET_SECRET_KEY"

    def credentials(self) -> WhaletCredentials:
        """The partner's credentials; `WHALET_USER_IDS` may be empty (platform balances only)."""
        partner = self.field_or_env(self.partner_id, "PARTNER_ID")
        client = self.field_or_env(self.client_id, "CLIENT_ID")
        key_file = self.field_or_env(self.secret_key_file, "SECRET_KEY_FILE")
        secret = (
            self.secret_file(key_file, "SECRET_KEY_FILE") if key_file else self.env("SECRET_KEY")
        )
        values = {"PARTNER_ID": partner, "CLIENT_ID": client, "SECRET_KEY": secret}
        missing = [f"WHALET_{n}" for n, v in values.items() if not v]
        if missing:
            raise ValueError(f"Whalet credentials missing: set {', '.join(missing)}")
        ids = self.field_or_env(self.user_ids, "USER_IDS")
        users = tuple(u.strip() for u in ids.split(",") if u.strip())
        return WhaletCredentials(partner, client, secret, users)

    def users_complete(self) -> bool:
        """Whether WHALET_USER_IDS names every user of the partner's platform: Whalet lists no
        users, so only the deployment can say (whalet_platform_mismatch needs it)."""
        if self.user_ids_complete is not None:
            return self.user_ids_complete
        text = self.env("USER_IDS_COMPLETE").lower()
        if text not in ("", "true", "false"):
            raise ValueError(f"WHALET_USER_IDS_COMPLETE must be true or false, got {text!r}")
        return text == "true"

    @contextmanager
    def client(self) -> Iterator[WhaletClient]:
        creds = self.credentials()
        http = self.http(WHALET.codes)
        try:
            yield WhaletClient(http, creds, WHALET)
        finally:
            http.close()


class ReconResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Check tolerances, the grace period and the nightly lookback: `RECON_GRACE_MINUTES`,
    `RECON_FX_*`, `RECON_LOOKBACK_DAYS`. `full_recheck` rebuilds every model from all history
    instead of re-deriving what the run's loads changed (`recon run --full`, the weekly
    schedule): the reference the incremental runs must equal."""

    grace_minutes: int | None = None
    stale_hours: str | None = None
    fx_amount_tolerance: str | None = None
    fx_rate_tolerance_bps: str | None = None
    lookback_days: int | None = None
    full_recheck: bool = False
    full_recheck_day: str | None = None

    def full_recheck_weekday(self) -> int | None:
        """The weekday (0 = Monday) whose nightly run re-checks all history,
        `RECON_FULL_RECHECK_DAY` (default sunday; `never` for none)."""
        text = (
            (self.full_recheck_day or os.environ.get("RECON_FULL_RECHECK_DAY", "") or "sunday")
            .strip()
            .lower()
        )
        if text == "never":
            return None
        if text not in WEEKDAYS:
            raise ValueError(
                f"RECON_FULL_RECHECK_DAY must be a weekday name or 'never', got {text!r}"
            )
        return WEEKDAYS.index(text)

    def lookback(self) -> int:
        """Days before yesterday the nightly run loads again (late rows, status changes)."""
        if self.lookback_days is not None:
            days = self.lookback_days
        else:
            text = os.environ.get("RECON_LOOKBACK_DAYS", "").strip() or str(DEFAULT_LOOKBACK_DAYS)
            if not text.lstrip("-").isdigit():
                raise ValueError(f"RECON_LOOKBACK_DAYS must be whole days, got {text!r}")
            days = int(text)
        if days < 0:
            raise ValueError("RECON_LOOKBACK_DAYS must not be negative")
        return days

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
        stale = self.stale_hours or os.environ.get("RECON_STALE_HOURS", "").strip() or "36"
        try:
            stale_hours = Decimal(stale)
        except ArithmeticError:
            stale_hours = Decimal(-1)
        if not stale_hours.is_finite() or stale_hours <= 0:
            raise ValueError(f"RECON_STALE_HOURS must be a positive number of hours, got {stale!r}")
        return Settings(
            grace_seconds=grace * 60,
            stale_hours=stale_hours,
            fx_amount_tolerance=amount,
            fx_rate_tolerance_bps=bps,
            fx_amount_tolerance_by_currency=amount_by_ccy,
            fx_rate_tolerance_bps_by_currency=bps_by_ccy,
        )


class AlertResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where break alerts go. The log always; with `RECON_ALERT_WEBHOOK_URL` a JSON webhook,
    with `RECON_ALERT_SLACK_URL` a Slack-compatible incoming webhook, with
    `RECON_ALERT_SMTP_HOST` email (`RECON_ALERT_SMTP_*`); `RECON_ALERT_MIN_SEVERITY` is
    `warn` (default, every break) or `error`. URLs and the password are secrets: they are
    read from the environment when alerts are sent and never written anywhere."""

    attempts: int = 3
    backoff_base_seconds: float = 1.0
    timeout_seconds: float = 10.0
    # The log only, whatever RECON_ALERT_* says (the demo: sandbox breaks never reach a
    # real operations channel).
    log_only: bool = False
    min_severity_level: str | None = None

    @staticmethod
    def env(name: str) -> str:
        return os.environ.get(f"RECON_ALERT_{name}", "").strip()

    def min_severity(self) -> str:
        value = (self.min_severity_level or self.env("MIN_SEVERITY")).lower() or "warn"
        if value not in SEVERITIES:
            raise ValueError(f"RECON_ALERT_MIN_SEVERITY must be one of {', '.join(SEVERITIES)}")
        return value

    def sinks(self) -> tuple[list[Sink], list[str]]:
        """The configured sinks, and what is wrong with any that could not be built: one
        bad setting costs its own destination, never the others (the log always works)."""
        retry = Retry(self.attempts, self.backoff_base_seconds, self.timeout_seconds)
        sinks: list[Sink] = [LogSink()]
        problems: list[str] = []
        if self.log_only:
            return sinks, problems
        builders: list[tuple[str, Callable[[], Sink]]] = [
            ("WEBHOOK_URL", lambda: webhook_sink(self.url("WEBHOOK_URL"), retry)),
            ("SLACK_URL", lambda: slack_sink(self.url("SLACK_URL"), retry)),
            ("SMTP_HOST", lambda: EmailSink(self.smtp(), retry)),
        ]
        for setting, build in builders:
            if not self.env(setting):
                continue
            try:
                sinks.append(build())
            except ValueError as exc:
                problems.append(str(exc))
        return sinks, problems

    def url(self, name: str) -> str:
        """A webhook URL, checked; the message names the setting, never the URL (a secret)."""
        value = self.env(name)
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 (urlsplit checks the port only when asked)
        except ValueError:
            raise ValueError(f"RECON_ALERT_{name} has a port that is not a number") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"RECON_ALERT_{name} must be an http(s) URL with a host")
        if any(ord(c) < 33 for c in value):
            raise ValueError(f"RECON_ALERT_{name} contains spaces or control characters")
        return value

    def smtp(self) -> Smtp:
        security = self.env("SMTP_SECURITY").lower() or "starttls"
        if security not in ("starttls", "ssl", "none"):
            raise ValueError("RECON_ALERT_SMTP_SECURITY must be starttls, ssl or none")
        port = self.env("SMTP_PORT") or {"starttls": "587", "ssl": "465", "none": "25"}[security]
        if not port.isdigit():
            raise ValueError(f"RECON_ALERT_SMTP_PORT must be a port number, got {port!r}")
        host = self.env("SMTP_HOST")
        if security == "none" and self.env("SMTP_USER") and not _loopback(host):
            raise ValueError(
                "RECON_ALERT_SMTP_SECURITY=none would send RECON_ALERT_SMTP_PASSWORD in clear; "
                "use starttls or ssl (none with a login is for a server on this machine only)"
            )
        recipients = tuple(r.strip() for r in self.env("SMTP_TO").split(",") if r.strip())
        sender = self.env("SMTP_FROM")
        if not recipients or not sender:
            raise ValueError("email alerts need RECON_ALERT_SMTP_FROM and RECON_ALERT_SMTP_TO")
        return Smtp(
            host=host,
            port=int(port),
            sender=sender,
            recipients=recipients,
            security=security,  # type: ignore[arg-type]
            user=self.env("SMTP_USER"),
            password=self.env("SMTP_PASSWORD"),
        )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
