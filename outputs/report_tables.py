"""The report's tables as HTML: amounts with their currency, and the break tables under each
wallet chart and for breaks about no ledger wallet. Every value from the data is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence

from outputs.amounts import money
from outputs.report_data import Break
from outputs.report_svg import esc, mark_numbers


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], classes: dict[int, str]) -> str:
    """A table of already escaped cells; `classes` styles columns by index (n: a number)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    cell = {i: f'<td class="{c}">' for i, c in classes.items()}
    body = "".join(
        "<tr>" + "".join(f"{cell.get(i, '<td>')}{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def status_badge(status: str) -> str:
    return f'<span class="status {esc(status)}">{esc(status)}</span>'


def _entity(m: Break) -> str:
    """What the break is about, without repeating the entry or wallet shown beside it."""
    if m.entity_id in (m.marked_transaction_id, m.transaction_id, m.wallet_key):
        return m.entity_type
    return f"{m.entity_type} {m.entity_id}"


AMOUNT_HEADERS = ["expected", "actual", "difference", "detail"]


def _amount_cells(m: Break) -> list[str]:
    amounts = (m.expected, m.actual, m.difference)
    return [*(esc(money(v, m.currency, m.difference_unit)) for v in amounts), esc(m.detail)]


def wallet_breaks_table(marks: Sequence[Break]) -> str:
    """A charted wallet's breaks, numbered as their markers."""
    numbers = mark_numbers(marks)
    headers = ["#", "check", "status", "entity", "entry", *AMOUNT_HEADERS]
    rows = [
        [
            str(numbers[m.break_id]),
            esc(m.check_name),
            status_badge(m.status),
            esc(_entity(m)),
            esc(m.marked_transaction_id or ""),
            *_amount_cells(m),
        ]
        for m in marks
    ]
    # Ids and the detail sentence wrap; amounts do not.
    return table(headers, rows, {0: "n", 4: "id", 5: "n", 6: "n", 7: "n", 8: "detail"})


def unplaced_table(breaks: Sequence[Break]) -> str:
    """Breaks about no ledger wallet, with the entry they name if they name one."""
    headers = ["provider / account", "check", "status", "about", *AMOUNT_HEADERS]
    rows = [
        [
            f'{esc(m.provider)}<br><span class="id">{esc(m.account_id)}</span>',
            esc(m.check_name),
            status_badge(m.status),
            esc(_entity(m) + (f" (entry {m.transaction_id})" if m.transaction_id else "")),
            *_amount_cells(m),
        ]
        for m in breaks
    ]
    return table(headers, rows, {3: "id", 4: "n", 5: "n", 6: "n", 7: "detail"})
