"""Exact parsing of provider values: money and rates to Decimal, datetimes to naive datetimes.

JSON numbers arrive as Decimal (parsed from the response text) or int. Anything else that is
not plainly a number, such as "12,30" or a float that slipped through, is refused with a
reason, so the row can be quarantined rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class ValueRefused(ValueError):
    """A provider value that cannot be taken exactly; the message is the quarantine reason."""


def to_decimal(value: object, field: str, places: int) -> Decimal:
    """An exact Decimal with at most `places` decimals (more would need rounding: refused)."""
    if isinstance(value, bool) or value is None:
        raise ValueRefused(f"{field}: expected a number, got {value!r}")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise ValueRefused(f"{field}: not an exact number: {value!r}")
    if not number.is_finite():
        raise ValueRefused(f"{field}: not a finite number: {value!r}")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueRefused(f"{field}: {value} has more than {places} decimals")
    try:
        return number.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValueRefused(f"{field}: {value} is out of range") from None


def to_int(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise ValueRefused(f"{field}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueRefused(f"{field}: expected an integer, got {value!r}")


def to_datetime(value: object, field: str, fmt: str) -> datetime | None:
    """Naive provider datetime; the provider's empty string means unset."""
    if value == "" or value is None:
        return None
    if not isinstance(value, str):
        raise ValueRefused(f"{field}: expected a datetime string, got {value!r}")
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        raise ValueRefused(f"{field}: {value!r} does not match {fmt}") from None


def to_text(value: object, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueRefused(f"{field}: expected text, got {value!r}")


# ISO 4217 minor-unit exponents that differ from 2; every other currency has 2.
_EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0,
    "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0,
    "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (THB 2, JPY 0, KWD 3)."""
    return _EXPONENTS.get(currency.upper(), 2)


def minor_to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units as an exact Decimal in major units: 50000 satang = 500.00 THB."""
    exponent = currency_exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
