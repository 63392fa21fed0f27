"""Breaks as the alerter reads them, for rule tests: one open chain gap unless told otherwise."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from outputs.alert_rules import AlertBreak

T0 = datetime(2026, 11, 10, 2, 0)


def brk(break_id: str, status: str, opened_at: datetime | None = T0, **kw: Any) -> AlertBreak:
    fields: dict[str, Any] = {
        "break_id": break_id,
        "status": status,
        "check_name": "chain_gap",
        "severity": "error",
        "provider": "openapi",
        "account_id": "10001",
        "entity_type": "wallet",
        "entity_id": "10001:USD",
        "currency": "USD",
        "difference": Decimal("-12.30"),
        "difference_unit": "money",
        "detail": "a gap",
        "opened_at": opened_at,
        "resolved_at": None,
    }
    return AlertBreak(**(fields | kw))
