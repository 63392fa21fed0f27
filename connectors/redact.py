"""Redaction: what a provider says is cleaned before it reaches an exception, a log line, an
alert or the report.

Providers echo things back: a key in a "bad credentials" message, a token in "token expired",
a card number in a detail. Every provider text the connectors pass on goes through `redact`,
the one redaction function, with the credentials the client was configured with (`Secrets`):

- **Credentials.** Any 16 or more characters that also occur, in that order, in a configured
  secret (an OPEN-API key, the JT private key's PEM body, the Whalet secret key and every
  token fetched) are replaced by `[redacted]`, case-insensitively: a secret echoed whole, cut,
  re-wrapped or upper-cased is still caught. A secret shorter than 16 characters is replaced
  where it occurs whole.
- **Card numbers.** A PAN is 13 to 19 digits, written together or in groups of four (Amex
  4-6-5) separated by one space or hyphen, whose first digit is 2 to 9 (every card scheme in
  use; epoch timestamps in milliseconds start with 1, zero-padded ids with 0) and whose check
  digit passes Luhn. It must stand alone: a digit run touching a letter, digit or underscore
  (`JT1234...`, `ord_...`) or a decimal point (`1234567890123.45`) is an id or an amount, not a
  card. A PAN becomes `[card ****1234]` (the last four, as alerts may show).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from decimal import Decimal

REDACTED = "[redacted]"
FRAGMENT = 16  # characters of a secret that count as an echo of it
SHORTEST = 4  # a configured secret shorter than this is not a secret worth matching

_PAN = re.compile(
    r"(?<![\w])(?<!\d\.)"
    r"(?:\d{13,19}"
    r"|\d{4}(?P<s>[ -])\d{4}(?P=s)\d{4}(?P=s)\d{1,7}"
    r"|\d{4}(?P<a>[ -])\d{6}(?P=a)\d{5})"
    r"(?![\w])(?!\.\d)"
)
_SPACE = re.compile(r"\s+")


class Secrets:
    """The credentials one client was configured with or was given (tokens), to redact."""

    def __init__(self, *values: str) -> None:
        self._lock = threading.Lock()
        self._fragments: set[str] = set()
        self._whole: set[str] = set()
        self.add(*values)

    def add(self, *values: str) -> None:
        for value in values:
            text = value.strip().lower()
            if len(text) < SHORTEST:
                continue
            with self._lock:
                if len(text) < FRAGMENT:
                    self._whole.add(text)
                else:
                    grams = {text[i : i + FRAGMENT] for i in range(len(text) - FRAGMENT + 1)}
                    self._fragments |= grams

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the text holds a secret (or 16 characters of one): (start, end) pairs."""
        lower = text.lower()
        with self._lock:
            fragments, whole = set(self._fragments), set(self._whole)
        found = [
            (i, i + FRAGMENT)
            for i in range(len(lower) - FRAGMENT + 1)
            if lower[i : i + FRAGMENT] in fragments
        ]
        for secret in whole:
            start = lower.find(secret)
            while start != -1:
                found.append((start, start + len(secret)))
                start = lower.find(secret, start + 1)
        return found

    def __repr__(self) -> str:
        return "Secrets(<hidden>)"


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if digits[0] in "01" or not 13 <= len(digits) <= 19 or not luhn(digits):
        return match.group(0)
    return f"[card ****{digits[-4:]}]"


def redact(text: str, secrets: Secrets | None = None) -> str:
    """The text without the configured secrets and without card numbers (module doc)."""
    if secrets is not None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(secrets.spans(text)):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        out, last = [], 0
        for start, end in merged:
            out += [text[last:start], REDACTED]
            last = end
        text = "".join([*out, text[last:]])
    return _PAN.sub(_card, text)


def one_line(text: str, limit: int = 300) -> str:
    """Provider text on one line and of bounded length (an HTML error page stays out)."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def redact_value(value: object) -> object:
    """A decoded JSON value with card numbers redacted in every string and number; values
    without one are returned unchanged (for quarantined rows kept as JSON)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(value)
        cleaned = redact(text)
        return value if cleaned == text else cleaned
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
