"""The queue as a file: CSV and an Excel workbook, for whoever works outside the app.

Money stays exact: expected, actual and difference are written as the decimal text the
warehouse holds (never a float), with the currency and the unit in columns of their own.
In the workbook they are text cells, so Excel shows every digit and never rounds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
from openpyxl.styles import Alignment

COLUMNS = (
    "break_id", "status", "workflow_status", "reason_code", "owner", "check_name", "severity",
    "provider", "account_id", "entity_type", "entity_id", "transaction_id", "currency",
    "expected", "actual", "difference", "difference_unit", "age_days", "first_seen_at",
    "opened_at", "detail", "note",
)  # fmt: skip
MONEY = ("expected", "actual", "difference")


def _exact(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def queue_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame of text and whole numbers; money as exact decimal text."""
    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS))
    for column in MONEY:
        frame[column] = [_exact(v) for v in frame[column]]
    for column in ("first_seen_at", "opened_at"):
        frame[column] = [("" if v is None or pd.isna(v) else str(v)) for v in frame[column]]
    return frame.astype(object).where(frame.notna(), "")


def to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    text: str = queue_frame(rows).to_csv(index=False)
    return text.encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    frame = queue_frame(rows)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="breaks")
        sheet = writer.sheets["breaks"]
        sheet.freeze_panes = "B2"
        for index, column in enumerate(frame.columns, 1):
            if column in MONEY:
                for cell in sheet.iter_cols(min_col=index, max_col=index, min_row=2):
                    for c in cell:
                        c.number_format = "@"
                        c.alignment = Alignment(horizontal="right")
    return buffer.getvalue()
