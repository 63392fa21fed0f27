"""Delivery of alerts: the log, a JSON webhook, a Slack-compatible incoming webhook, email.

Each sink delivers one `Alert` or raises `DeliveryError` after its retries. Webhook URLs
carry secrets (a Slack URL *is* its credential) and SMTP has a password, so no message,
log line or exception here ever contains a URL beyond its host, a header or a password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

log = logging.getLogger("recon.alerts")


_URL = re.compile(r"(?P<scheme>https?)://(?P<netloc>[^/\s\"'?#]+)(?P<rest>[^\s\"']*)")


class _HideSinkUrls(logging.Filter):
    """httpx logs every request's URL at INFO. A webhook's path and query are its secret (a
    Slack URL is its own credential), so for a sink's host they are cut from httpx's records,
    as httpx prints them (normalised, percent-encoded); user:password@ is cut from any URL."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: set[str] = set()

    def add(self, url: str) -> None:
        host = urlsplit(url).hostname
        if host:
            self.hosts.add(host.lower())

    def _hide(self, match: re.Match[str]) -> str:
        netloc = match["netloc"].rsplit("@", 1)[-1]
        host = urlsplit(f"//{netloc}").hostname or ""
        rest = "/…" if match["rest"] and host.lower() in self.hosts else match["rest"]
        return f"{match['scheme']}://{netloc}{rest}"

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = _URL.sub(self._hide, message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_HIDE = _HideSinkUrls()
logging.getLogger("httpx").addFilter(_HIDE)


@dataclass(frozen=True)
class Alert:
    """One alert in every shape a sink needs; built by outputs.alerts."""

    subject: str
    text: str
    payload: Mapping[str, Any]
    slack: Mapping[str, Any]


class DeliveryError(Exception):
    """A sink could not deliver after its retries; the message names no secret."""


@dataclass(frozen=True)
class Retry:
    attempts: int = 3
    backoff_base_seconds: float = 1.0
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("alert delivery needs at least one attempt")


class Sink(Protocol):
    @property
    def name(self) -> str:
        """Stable identity of the destination, for remembering what it was told."""
        ...

    def deliver(self, alert: Alert) -> None: ...


def _json_default(value: object) -> str:
    # Money stays exact: a Decimal travels as its string, never as a float.
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def to_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, default=_json_default, ensure_ascii=False).encode()


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _with_retries(what: str, retry: Retry, attempt: Callable[[], None]) -> None:
    last = ""
    for number in range(1, retry.attempts + 1):
        try:
            attempt()
            return
        except _Permanent as exc:
            raise DeliveryError(f"{what}: {exc}") from None
        except _Transient as exc:
            last = str(exc)
        log.warning(f"alert to {what}: attempt {number}/{retry.attempts} failed: {last}")
        if number < retry.attempts:
            time.sleep(retry.backoff_base_seconds * 2 ** (number - 1))
    raise DeliveryError(f"{what}: {last} after {retry.attempts} attempts")


class _Transient(Exception):
    pass


class _Permanent(Exception):
    pass


@dataclass(frozen=True)
class LogSink:
    """The default sink: the alert's text on the `recon.alerts` logger."""

    name: str = "log"

    def deliver(self, alert: Alert) -> None:
        log.warning(alert.text)


@dataclass(frozen=True)
class _HttpSink:
    url: str = field(repr=False)
    retry: Retry = Retry()
    kind: Literal["webhook", "slack"] = "webhook"

    def __post_init__(self) -> None:
        _HIDE.add(self.url)

    @property
    def name(self) -> str:
        return f"{self.kind}:{_fingerprint(self.url)}"

    @property
    def where(self) -> str:
        return f"{self.kind} ({urlsplit(self.url).hostname or 'no host'})"

    def body(self, alert: Alert) -> Mapping[str, Any]:
        return alert.slack if self.kind == "slack" else alert.payload

    def deliver(self, alert: Alert) -> None:
        content = to_json(self.body(alert))

        def attempt() -> None:
            try:
                response = httpx.post(
                    self.url,
                    content=content,
                    headers={"content-type": "application/json"},
                    timeout=self.retry.timeout_seconds,
                )
            except httpx.HTTPError as exc:
                # The class says what happened (ConnectError, ReadTimeout, ...); the text of
                # some httpx errors repeats the URL, so it is left out.
                raise _Transient(type(exc).__name__) from None
            if response.status_code == 429 or response.status_code >= 500:
                raise _Transient(f"HTTP {response.status_code}")
            if response.status_code >= 300:
                # A wrong URL or a refused payload will not mend by itself; it stays pending.
                raise _Permanent(f"HTTP {response.status_code}")

        _with_retries(self.where, self.retry, attempt)


def webhook_sink(url: str, retry: Retry = Retry()) -> _HttpSink:
    """The generic JSON webhook: POSTs the alert's `payload`."""
    return _HttpSink(url, retry, "webhook")


def slack_sink(url: str, retry: Retry = Retry()) -> _HttpSink:
    """A Slack-compatible incoming webhook: POSTs `{"text": ..., "blocks": [...]}`."""
    return _HttpSink(url, retry, "slack")


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class EmailSink:
    smtp: Smtp
    retry: Retry = Retry()

    @property
    def name(self) -> str:
        return f"email:{_fingerprint(','.join(sorted(self.smtp.recipients)))}"

    def deliver(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(self.smtp.recipients)
        message.set_content(alert.text)
        smtp = self.smtp

        def attempt() -> None:
            try:
                client: smtplib.SMTP
                timeout = self.retry.timeout_seconds
                if smtp.security == "ssl":
                    client = smtplib.SMTP_SSL(
                        smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
                    )
                else:
                    client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
                with client:
                    if smtp.security == "starttls":
                        client.starttls(context=ssl.create_default_context())
                    if smtp.user:
                        client.login(smtp.user, smtp.password)
                    client.send_message(message)
            except smtplib.SMTPAuthenticationError:
                raise _Permanent("the server refused RECON_ALERT_SMTP_USER/PASSWORD") from None
            except smtplib.SMTPRecipientsRefused:
                raise _Permanent("the server refused RECON_ALERT_SMTP_TO") from None
            except (OSError, smtplib.SMTPException) as exc:
                code = getattr(exc, "smtp_code", None)
                raise _Transient(type(exc).__name__ + (f" {code}" if code else "")) from None

        _with_retries(f"email ({smtp.host}:{smtp.port})", self.retry, attempt)
