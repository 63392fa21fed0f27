"""Whalet balance records as typed rows: each money object as amount, cents, factor, currency.

A money object is `{"amount", "cent", "centFactor", "currency"}`. Both numbers land exactly as
sent; whether `cent = amount x centFactor` holds is a reconciliation check
(`money_unit_mismatch`), not a reason to refuse the row: the provider said both, and an
analyst needs to see both. A money object that is malformed (not numbers) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.schema import Converted, EntitySchema, cols
from connectors.schema import convert_rows as convert

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Money object fields of a balance record, and their landed column prefixes.
MONEY_FIELDS = {
    "balance": "balance",
    "orderQuota": "order_quota",
    "rmbAmount": "rmb_amount",
    "pendingAmount": "pending_amount",
    "freezeAmount": "freeze_amount",
}


def _money_spec(source: str, prefix: str, required: bool) -> str:
    bang = "!" if required else ""
    return (
        f"{prefix}_amount={source}.amount:decimal{bang} "
        f"{prefix}_cents={source}.cent:minor{bang} "
        f"{prefix}_cent_factor={source}.centFactor:int{bang} "
        f"{prefix}_currency={source}.currency:text "
    )


_RECORD = "fund_source=fundSource:text! currency:text! " + "".join(
    _money_spec(source, prefix, source == "balance") for source, prefix in MONEY_FIELDS.items()
)
SCHEMAS: dict[str, EntitySchema] = {
    "balances": EntitySchema(
        "balances", cols(_RECORD), ("user_id", "fund_source", "currency"), "user_id", "text"
    ),
    "platform_balances": EntitySchema(
        "platform_balances",
        cols(_RECORD),
        ("partner_id", "fund_source", "currency"),
        "partner_id",
        "text",
    ),
}


def convert_rows(
    entity: str,
    account: str,
    fund_source: str,
    raw_rows: Iterable[object],
    extra: Mapping[str, object] | None = None,
) -> Converted:
    """Typed rows of one user's (or the platform's) records for one fund source."""
    tagged = [{**r, "fundSource": fund_source} if isinstance(r, Mapping) else r for r in raw_rows]
    return convert(SCHEMAS[entity], account, tagged, DATETIME_FORMAT, extra)


def unit_mismatches(rows: Iterable[Mapping[str, Any]]) -> int:
    """Money objects of landed rows whose cents are not amount x centFactor.

    Counted on the way in so a reading says at once that it holds such objects; each one
    becomes a `money_unit_mismatch` break in the warehouse, the row itself is kept.
    """
    count = 0
    for row in rows:
        for prefix in MONEY_FIELDS.values():
            amount, cents = row.get(f"{prefix}_amount"), row.get(f"{prefix}_cents")
            factor = row.get(f"{prefix}_cent_factor")
            # The rule of the money_unit_mismatch check, nulls included.
            expected = amount * factor if amount is not None and factor is not None else None
            if amount is not None and expected != cents:
                count += 1
    return count
