"""The report's charts as inline SVG text: open breaks per run, and a wallet's balance along its
ledger chain with its breaks marked. Pure functions of the report rows; every text that comes
from data is HTML-escaped here, so the SVG can be pasted into the page as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from outputs.report_data import Break, RunPoint, Wallet

WIDTH = 1000
LEFT, RIGHT, TOP, BOTTOM = 90, 44, 26, 46
STATUS_COLOURS = {"open": "#c62828", "pending": "#e69500", "resolved": "#7a7a7a"}
# Above this many runs the bars get too thin for a number each.
MAX_LABELLED_RUNS = 40
MAX_X_LABELS = 8


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def number(value: float | Decimal, places: int = 2) -> str:
    return f"{value:,.{places}f}"


def axis_number(value: float) -> str:
    """Tick labels: no decimals once the values are large."""
    return number(value, 0 if abs(value) >= 100 or value == int(value) else 2)


TIME_STEPS = tuple(
    [timedelta(minutes=m) for m in (1, 5, 15, 30)]
    + [timedelta(hours=h) for h in (1, 2, 3, 6, 12)]
    + [timedelta(days=d) for d in (1, 2, 7, 14, 28, 91, 182, 364)]
)


def time_ticks(start: datetime, end: datetime) -> list[datetime]:
    """Ticks at round times (whole hours, midnights...), at most about MAX_X_LABELS of them,
    from the round time at or before `start` to the one at or after `end`."""
    span = max(end - start, timedelta(minutes=1))
    step = next((s for s in TIME_STEPS if span / s <= MAX_X_LABELS - 1), None)
    if step is None:
        step = TIME_STEPS[-1] * math.ceil(span / TIME_STEPS[-1] / (MAX_X_LABELS - 1))
    midnight = datetime(start.year, start.month, start.day, tzinfo=start.tzinfo)
    first = midnight + step * math.floor((start - midnight) / step)
    count = math.ceil((end - first) / step)
    return [first + step * i for i in range(max(count, 1) + 1)]


def time_label(at: datetime, ticks: Sequence[datetime]) -> str:
    step = ticks[1] - ticks[0]
    if step >= timedelta(days=1):
        return at.strftime("%Y-%m-%d")
    return at.strftime("%H:%M" if ticks[0].date() == ticks[-1].date() else "%m-%d %H:%M")


def _x_labels(count: int) -> set[int]:
    """Which of `count` evenly spread positions get a label: at most MAX_X_LABELS, evenly
    spaced, both ends included."""
    if count <= MAX_X_LABELS:
        return set(range(count))
    return {round(i * (count - 1) / (MAX_X_LABELS - 1)) for i in range(MAX_X_LABELS)}


def _y_axis(
    ticks: Sequence[float], y: Callable[[float], float], height: int, unit: str
) -> list[str]:
    parts = [
        f'<text class="unit" x="{LEFT - 8}" y="{TOP - 10}" text-anchor="end">{esc(unit)}</text>'
    ]
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end">{esc(axis_number(tick))}'
            "</text>"
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{height - BOTTOM}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{height - BOTTOM}" '
        f'y2="{height - BOTTOM}"/>'
    )
    return parts


def runs_svg(runs: Sequence[RunPoint], height: int = 260) -> str:
    """One stacked bar per reconcile run (open, then pending), in run order, evenly spaced:
    the runs are the x axis, not a time scale, so a single run is one readable bar."""
    top = max([r.open_breaks + r.pending for r in runs] + [1])
    ticks = nice_ticks(0, top)

    def y(v: float) -> float:
        return height - BOTTOM - (v / ticks[-1]) * (height - BOTTOM - TOP)

    band = (WIDTH - LEFT - RIGHT) / max(len(runs), 1)
    bar = min(56.0, band * 0.7)
    parts = [
        f'<svg class="chart runs" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="open breaks after each run">',
        *_y_axis(ticks, y, height, "breaks"),
    ]
    labelled = _x_labels(len(runs))
    # Runs minutes apart are labelled to the minute; runs within one minute need seconds.
    minutes = {r.run_at.replace(second=0, microsecond=0) for r in runs}
    label_format = "%Y-%m-%d %H:%M" if len(minutes) == len(runs) else "%Y-%m-%d %H:%M:%S"
    for i, run in enumerate(runs):
        cx = LEFT + band * (i + 0.5)
        x = cx - bar / 2
        y_open, y_pending = y(run.open_breaks), y(run.open_breaks + run.pending)
        when = run.run_at.strftime("%Y-%m-%d %H:%M:%S")
        parts.append(
            f'<g class="run-point" data-run-at="{esc(when)}" data-open="{run.open_breaks}" '
            f'data-pending="{run.pending}"><title>{esc(when)} UTC: {run.open_breaks} open, '
            f"{run.pending} pending, {run.resolved} resolved; {run.opened_in_run} opened and "
            f"{run.resolved_in_run} resolved in this run</title>"
            f'<rect x="{x:.1f}" y="{y_open:.1f}" width="{bar:.1f}" '
            f'height="{y(0) - y_open:.1f}" fill="{STATUS_COLOURS["open"]}"/>'
            f'<rect x="{x:.1f}" y="{y_pending:.1f}" width="{bar:.1f}" '
            f'height="{y_open - y_pending:.1f}" fill="{STATUS_COLOURS["pending"]}"/>'
        )
        if len(runs) <= MAX_LABELLED_RUNS:
            label = str(run.open_breaks) + (f" +{run.pending}" if run.pending else "")
            parts.append(
                f'<text class="value" x="{cx:.1f}" y="{y_pending - 5:.1f}" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
        parts.append("</g>")
        if i in labelled:
            parts.append(
                f'<text x="{cx:.1f}" y="{height - BOTTOM + 18}" text-anchor="middle">'
                f"{esc(run.run_at.strftime(label_format))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def mark_numbers(marks: Sequence[Break]) -> dict[str, int]:
    """The number each break carries on its wallet's chart and in the table under it."""
    return {m.break_id: i for i, m in enumerate(marks, start=1)}


def balance_svg(wallet: Wallet, height: int = 280) -> str:
    """The wallet's after_balance along its chain over booking time, a marker per break."""
    placed = [m for m in wallet.marks if m.marked_at is not None and m.marked_balance is not None]
    times = [p.at for p in wallet.points] + [m.marked_at for m in placed if m.marked_at]
    # Floats only place pixels; every amount printed comes from the Decimal itself.
    values = [float(p.balance) for p in wallet.points] + [
        float(m.marked_balance) for m in placed if m.marked_balance is not None
    ]
    if not times:
        return '<p class="note">No ledger entries for this wallet.</p>'
    ticks_x = time_ticks(min(times), max(times))
    start, span = ticks_x[0], ticks_x[-1] - ticks_x[0]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(abs(high) * 0.05, 1.0)
    ticks = nice_ticks(low - pad, high + pad)

    def x(at: datetime) -> float:
        return LEFT + (at - start) / span * (WIDTH - LEFT - RIGHT)

    def y(v: float) -> float:
        return height - BOTTOM - (v - ticks[0]) / (ticks[-1] - ticks[0]) * (height - BOTTOM - TOP)

    parts = [
        f'<svg class="chart balance" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="balance of wallet {esc(wallet.wallet_key)}">',
        *_y_axis(ticks, y, height, wallet.currency),
    ]
    for at in ticks_x:
        parts.append(
            f'<line class="grid" x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{TOP}" '
            f'y2="{height - BOTTOM}"/><text x="{x(at):.1f}" y="{height - BOTTOM + 18}" '
            f'text-anchor="middle">{esc(time_label(at, ticks_x))}</text>'
        )
    line = " ".join(f"{x(p.at):.1f},{y(float(p.balance)):.1f}" for p in wallet.points)
    parts.append(f'<polyline class="balance-line" points="{line}"/>')
    numbers = mark_numbers(wallet.marks)
    stacked: dict[tuple[int, int], int] = {}
    for mark in placed:
        assert mark.marked_at is not None and mark.marked_balance is not None
        mx, my = x(mark.marked_at), y(float(mark.marked_balance))
        # Several breaks on one entry: their numbers stack instead of overprinting.
        key = (round(mx), round(my))
        level = stacked.get(key, 0)
        stacked[key] = level + 1
        colour = STATUS_COLOURS.get(mark.status, "#333")
        label_y = max(my - 10 - 13 * level, TOP - 4.0)
        parts.append(
            f'<g class="break-marker" data-break-id="{esc(mark.break_id)}" '
            f'data-status="{esc(mark.status)}"><title>#{numbers[mark.break_id]} '
            f"{esc(mark.check_name)} ({esc(mark.status)}) at entry "
            f"{esc(mark.marked_transaction_id)}: {esc(wallet.currency)} "
            f"{esc(number(mark.marked_balance))}</title>"
            f'<line class="mark-line" x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" '
            f'y2="{height - BOTTOM}" stroke="{colour}"/>'
            f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="5.5" fill="{colour}"/>'
            f'<text class="mark-label" x="{mx + 7:.1f}" y="{label_y:.1f}" fill="{colour}">'
            f"{numbers[mark.break_id]}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
