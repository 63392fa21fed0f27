"""The one HTTP layer every provider connector goes through.

Providers speak JSON envelopes (``{"code": ..., "message": ..., "data": ...}``) over POST.
This module owns everything about talking to them that must be identical across providers:
timeouts, the provider's limits (requests in flight and per second, `connectors.limits`),
retries with jittered backoff, honouring ``Retry-After`` (for every request to the provider),
turning business codes into "ok / retry / fail", Decimal-exact JSON parsing, and the shape
of what a provider answered (`Expect`: `data` an object, a list under its key, a whole-number
`total`). Request bodies carry API keys, so nothing here ever logs or raises with a body or a
header; whatever the provider says (its message, a malformed value) reaches an exception only
on one line and through `connectors.redact` with the client's configured secrets.
"""

from __future__ import annotations

import collections
import decimal
import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx

from connectors.limits import Limiter
from connectors.redact import Secrets, one_line, redact


@dataclass(frozen=True)
class HttpSettings:
    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    retry_after_max_seconds: float = 120.0
    # A provider's limits (connectors.limits): requests on the wire at once, and started
    # per second (0: no limit). Safe for a provider whose limits nobody has written down.
    max_in_flight: int = 4
    requests_per_second: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if self.requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative (0: no limit)")


@dataclass(frozen=True)
class BusinessCodes:
    """How a provider's JSON envelope says ok / retry / fail."""

    ok: object
    retryable: frozenset[object]
    fatal: Mapping[object, str]
    code_field: str = "code"
    message_field: str = "message"
    data_field: str = "data"


class ProviderError(Exception):
    """The provider refused the request in a way retrying cannot fix.

    `code` is the provider's business code when there was one, so a client can act on a
    specific refusal (Whalet's `TokenInvalid`: fetch a new token once).
    """

    def __init__(self, message: str, code: object = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Expect:
    """The shape an ok answer's `data` must have: always an object; with `list_key`, a list
    under that key (its rows may be anything: a row that is not an object is the caller's to
    quarantine); with `total_key`, a whole number of rows under that key."""

    list_key: str | None = None
    total_key: str | None = None


OBJECT = Expect()


def page_of(list_key: str, total_key: str | None = "total") -> Expect:
    return Expect(list_key, total_key)


def _shape_problem(data: object, expect: Expect) -> str | None:
    """What is wrong with `data` for `expect`, in words, or None."""
    if not isinstance(data, dict):
        return f"`data` is {json_kind(data)}, expected an object"
    key, total = expect.list_key, expect.total_key
    if key is not None and key not in data:
        return f"`data` has no `{key}`"
    if key is not None and not isinstance(data[key], list):
        return f"`{key}` is {json_kind(data[key])}, expected a list"
    if total is not None:
        if total not in data:
            return f"`data` has no `{total}`"
        value = data[total]
        whole = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
            data[total], whole = int(value), True
        if not whole or data[total] < 0:
            shown = (
                f" {json.dumps(value, default=str)[:40]}" if isinstance(value, str | int) else ""
            )
            if isinstance(value, decimal.Decimal):
                shown = f" {value}"
            return f"`{total}` is {json_kind(value)}{shown}, expected a whole number of rows"
    return None


def json_kind(value: object) -> str:
    """What a decoded JSON value is, in words ("a list", "null"), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | decimal.Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


class RetriesExhausted(Exception):
    """Transient failures outlasted the retry budget."""


@dataclass(frozen=True)
class _Transient:
    key: str  # stats suffix, e.g. "http_503"
    detail: str  # safe for logs: never includes body, headers or provider payload
    retry_after: float | None = None


class JsonHttpClient:
    def __init__(
        self,
        base_url: str,
        settings: HttpSettings,
        codes: BusinessCodes,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        logger: logging.Logger | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Secrets | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self._settings = settings
        # What this client's provider must never be quoted saying: its credentials (added by
        # the provider's client as it learns them, tokens included).
        self.secrets = secrets if secrets is not None else Secrets()
        self._codes = codes
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._log = logger if logger is not None else logging.getLogger("recon.http")
        # The provider's limiter, shared with its other clients when given (connectors.limits).
        self.limiter = limiter or Limiter(
            settings.max_in_flight, settings.requests_per_second, sleep=sleep, clock=clock
        )
        self.stats: collections.Counter[str] = collections.Counter()
        self._stats_lock = threading.Lock()
        in_flight = self.limiter.max_in_flight
        # httpx only keeps the last base_url segment when it ends in "/"; force it so
        # ".../v1" + "/openApi/x" becomes ".../v1/openApi/x", not ".../openApi/x".
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(
                settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)
            ),
            transport=transport,
            headers=dict(headers) if headers is not None else None,
            # Enough kept-alive connections for every request the limiter lets fly at once.
            limits=httpx.Limits(
                max_connections=max(100, in_flight),
                max_keepalive_connections=max(20, in_flight),
            ),
        )

    @property
    def concurrency(self) -> int:
        """How many requests to this provider may be in flight at once (threads beyond
        that would only wait for the limiter)."""
        return self.limiter.max_in_flight

    def count(self, key: str) -> None:
        """One more of `key` in `stats` (requests come from several threads)."""
        with self._stats_lock:
            self.stats[key] += 1

    def post(
        self,
        path: str,
        body: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        *,
        context: str,
        headers: Callable[[], Mapping[str, str]] | None = None,
        expect: Expect | None = None,
        detail: str = "",
    ) -> Any:
        """POST base_url + path with a JSON body; return the envelope's data field.

        With `expect`, `data` must have that shape or the call fails with a ProviderError
        naming the request (`context`, the path and `detail`, e.g. the window and page) and
        what was wrong, on one line; a malformed answer is not retried.

        `body` may be a function, called for every attempt: a signed body carries a
        timestamp that must be fresh when it is sent, not when the first attempt was made.
        `headers`, likewise called per attempt, adds request headers (request numbers,
        tokens); like bodies, they are never logged.
        """
        if not path.startswith("/"):
            raise ValueError(f"{context}: path must start with '/': {path!r}")
        max_attempts = self._settings.max_attempts
        last: _Transient | None = None
        waited_until = 0.0
        for attempt in range(1, max_attempts + 1):
            try:
                with self.limiter.slot(waited_until):
                    # Built once the request may go: a signed body's timestamp is fresh.
                    payload = body() if callable(body) else body
                    extra = headers() if headers is not None else None
                    self.count("requests")
                    # Relative reference so httpx appends it to base_url's path.
                    response = self._client.post(
                        path.lstrip("/"), json=dict(payload), headers=extra and dict(extra)
                    )
            except httpx.TimeoutException as exc:
                outcome: Any = _Transient("timeout", f"timeout ({type(exc).__name__})")
            except httpx.TransportError as exc:
                outcome = _Transient("transport", f"transport error ({type(exc).__name__})")
            else:
                outcome = self._interpret(response, path, context)
            if not isinstance(outcome, _Transient):
                if expect is not None:
                    problem = _shape_problem(outcome, expect)
                    if problem is not None:
                        where = f"POST {path}" + (f" ({detail})" if detail else "")
                        raise self.refusal(f"{context}: {where}: malformed response: {problem}")
                return outcome
            last = outcome
            if attempt == max_attempts:
                break
            retry_index = attempt - 1
            delay = outcome.retry_after
            if delay is None:
                delay = self._backoff(retry_index)
            else:
                # The provider asked for quiet: every request to it waits, not only this one
                # (which waits below, and not again in the limiter).
                waited_until = self.limiter.pause(delay)
            self.count(f"retry:{outcome.key}")
            self._log.warning(
                "%s: POST %s: %s; retry %d/%d in %.2fs",
                context,
                path,
                outcome.detail,
                attempt,
                max_attempts - 1,
                delay,
            )
            self._sleep(delay)
        assert last is not None
        raise RetriesExhausted(
            f"{context}: POST {path} failed after {max_attempts} attempts; last: {last.detail}"
        )

    def redact(self, text: str) -> str:
        """Provider text fit for an exception or a log line: one line, without this client's
        secrets or card numbers (connectors.redact)."""
        return redact(one_line(text), self.secrets)

    def refusal(self, message: str, code: object = None) -> ProviderError:
        """A ProviderError whose message is redacted (it may quote the provider)."""
        return ProviderError(self.redact(message), code)

    def _backoff(self, retry_index: int) -> float:
        s = self._settings
        cap = min(s.backoff_max_seconds, s.backoff_base_seconds * 2**retry_index)
        return self._rng.uniform(0, cap)

    def _interpret(self, response: httpx.Response, path: str, context: str) -> Any:
        """Return the envelope's data, a _Transient to retry, or raise ProviderError."""
        status = response.status_code
        if status == 429:
            retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                retry_after = min(retry_after, self._settings.retry_after_max_seconds)
            return _Transient("http_429", "HTTP 429", retry_after)
        if status >= 500:
            return _Transient(f"http_{status}", f"HTTP {status}")
        if not 200 <= status < 300:
            raise self.refusal(f"{context}: HTTP {status} for POST {path}")

        try:
            envelope = json.loads(response.text, parse_float=decimal.Decimal)
        except ValueError:
            return _Transient("bad_json", "response body is not valid JSON")
        if not isinstance(envelope, dict):
            return _Transient("bad_json", "response body is not a JSON object")

        codes = self._codes
        if codes.code_field not in envelope:
            raise self.refusal(f"{context}: response to POST {path} has no {codes.code_field!r}")
        code = envelope[codes.code_field]
        said = envelope.get(codes.message_field)
        provider_message = said if isinstance(said, str) else json.dumps(said, default=str)
        if code == codes.ok:
            if codes.data_field not in envelope:
                raise self.refusal(
                    f"{context}: ok response to POST {path} has no {codes.data_field!r}"
                )
            return envelope[codes.data_field]
        if not isinstance(code, Hashable):
            raise self.refusal(f"{context}: unrecognised code {code!r}: {provider_message}", code)
        if code in codes.retryable:
            return _Transient(f"code_{code}", f"retryable code {code}")
        if code in codes.fatal:
            raise self.refusal(
                f"{context}: {codes.fatal[code]} (code {code}): {provider_message}", code
            )
        raise self.refusal(f"{context}: unknown code {code!r}: {provider_message}", code)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header, or None if absent or unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
