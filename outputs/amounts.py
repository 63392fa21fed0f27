"""How a break's amount reads to an analyst, the same in the report and in alerts."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None, currency: str | None, unit: str) -> str:
    """A break amount with its currency, in cents (minor units), as a rate, or as the
    rows or hours the window checks count."""
    if value is None:
        return ""
    if unit == "rate":
        return f"{value:.8f}".rstrip("0").rstrip(".") + " (rate)"
    if unit == "minor":
        return f"{currency or ''} {int(value):,} cents".strip()
    if unit == "rows":
        return f"{int(value):,} rows"
    if unit == "hours":
        return f"{value.quantize(Decimal('0.1'))} hours"
    cents = value.quantize(Decimal("0.01"))
    # To the cent, unless the provider sent more digits: those are shown, never rounded.
    shown = f"{cents:,.2f}" if cents == value else f"{value.normalize():,f}"
    return f"{currency or ''} {shown}".strip()
