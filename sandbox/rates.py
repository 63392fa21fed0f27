"""The reference exchange-rate series the `exchangeRate` endpoint serves.

Rates are integers in units of 1e-8 (the provider's 8 decimals). Each currency's rate per USD
moves on a triangle wave of +/-5 bps with a 3-day period, so two reference snapshots never
differ by more than ~20 bps: a normal exchange (applied within 10 bps of the reference at its
time) stays within the 50 bps tolerance of any snapshot, and a planted deviation (80+ bps)
stands out against all of them. Integer arithmetic keeps the series exact and identical on
every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.model import round_half_up_div

E8 = 100_000_000
_UNITS_PER_USD_E8: dict[str, int] = {
    "USD": 100_000_000,
    "HKD": 780_000_000,
    "EUR": 92_000_000,
    "CNY": 720_000_000,
    "GBP": 79_000_000,
    "SGD": 134_000_000,
    "JPY": 15_000_000_000,
    "THB": 3_600_000_000,
}
_AMPLITUDE_PPM = 500  # 5 bps
_PERIOD = 3 * 86_400


def supported(currency: str) -> bool:
    return currency in _UNITS_PER_USD_E8


def amount_scale(currency: str) -> int:
    """Rough units of the currency per USD, to keep amounts realistic across currencies."""
    return max(1, round_half_up_div(_UNITS_PER_USD_E8[currency], E8))


def _triangle_ppm(t: int, phase: int) -> int:
    """A triangle wave in [-AMPLITUDE, +AMPLITUDE] ppm."""
    x = (t + phase) % _PERIOD
    half = _PERIOD // 2
    rising = x if x < half else _PERIOD - x
    return (4 * _AMPLITUDE_PPM * rising) // _PERIOD - _AMPLITUDE_PPM


def _units_per_usd_e8(currency: str, t: int, currencies: Sequence[str]) -> int:
    if currency == "USD":
        return E8
    phase = (currencies.index(currency) * _PERIOD) // max(1, len(currencies))
    base = _UNITS_PER_USD_E8[currency]
    return round_half_up_div(base * (1_000_000 + _triangle_ppm(t, phase)), 1_000_000)


def reference_rate_e8(from_ccy: str, to_ccy: str, t: int, currencies: Sequence[str]) -> int:
    """1 `from_ccy` = result / 1e8 `to_ccy` at time t."""
    if from_ccy == to_ccy:
        return E8
    to_units = _units_per_usd_e8(to_ccy, t, currencies)
    from_units = _units_per_usd_e8(from_ccy, t, currencies)
    return round_half_up_div(to_units * E8, from_units)


def convert_cents(cents: int, rate_e8: int) -> int:
    """round_half_up(amount x rate, 2) in cents."""
    return round_half_up_div(cents * rate_e8, E8)


def shift_bps(rate_e8: int, bps: int) -> int:
    return round_half_up_div(rate_e8 * (10_000 + bps), 10_000)
