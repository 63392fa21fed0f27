"""Plain-text tables for the terminal: warehouse row counts, the break summary, break lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def cell(value: Any) -> str:
    """A value as an analyst reads it: money to the cent unless it has more digits (rates)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return (
            str(value.quantize(CENT)) if value == value.quantize(CENT) else str(value.normalize())
        )
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right: Sequence[str] = (),
    max_width: int = 60,
) -> str:
    """Aligned columns; numbers (the `right` columns) flush right, long text cut at max_width."""
    text = [[_cut(cell(v), max_width) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if h in right else v.ljust(w)
            for v, w, h in zip(values, widths, headers, strict=True)
        ]
        return "  " + "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, text)])


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
