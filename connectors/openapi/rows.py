"""OPEN-API rows as typed records: one schema per entity, strict conversion, quarantine reasons.

A row either converts exactly (every amount a Decimal at the provider's precision, every time
a naive datetime in the provider's zone) or is refused whole with the reason; nothing is
rounded, guessed or dropped. Card secrets never get this far: see `scrub_card`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pyarrow as pa

from connectors.money import ValueRefused, to_datetime, to_decimal, to_int, to_text
from connectors.openapi.profile import PROFILE

Kind = Literal["text", "int", "money", "rate", "datetime", "json"]
MONEY_PLACES = 2
RATE_PLACES = 8
DATETIME_FORMAT = PROFILE.datetime_format

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "money": pa.decimal128(18, MONEY_PLACES),
    "rate": pa.decimal128(18, RATE_PLACES),
    "datetime": pa.timestamp("s"),
    "json": pa.string(),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class EntitySchema:
    """Columns of one entity as the provider sends them (after scrubbing), plus customer_id."""

    entity: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def arrow_schema(self, extra: Mapping[str, pa.DataType] | None = None) -> pa.Schema:
        fields = [pa.field("customer_id", pa.int64(), nullable=False)]
        fields += [pa.field(c.name, ARROW_TYPES[c.kind]) for c in self.columns]
        fields += [pa.field(n, t) for n, t in (extra or {}).items()]
        return pa.schema(fields)


def _cols(spec: str) -> tuple[Column, ...]:
    """Compact column spec: 'name:kind' or 'name:kind!' (required), space separated."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        required = kind.endswith("!")
        out.append(Column(name, kind.rstrip("!"), required))  # type: ignore[arg-type]
    return tuple(out)


SCHEMAS: dict[str, EntitySchema] = {
    "transactions": EntitySchema(
        "transactions",
        _cols(
            "record_id:text transaction_id:text! out_transaction_id:text product_id:int "
            "in_out_type:int! transaction_type:int! transaction_desc:text amount:money! "
            "currency:text! before_balance:money! after_balance:money! approve_type:int "
            "approve_at:datetime status:int! reject_reason:text attach:text remark:text "
            "transaction_time:datetime! create_at:datetime!"
        ),
        ("customer_id", "transaction_id", "in_out_type", "currency"),
    ),
    "card_trades": EntitySchema(
        "card_trades",
        _cols(
            "trade_id:text! card_id:text! origin_trade_id:text trade_type:int! "
            "trade_result:int! trade_amount:money! trade_currency:text! merchant_amount:money "
            "merchant_currency:text merchant_name:text mcc:text auth_code:text "
            "trade_time:datetime! settle_time:datetime"
        ),
        ("customer_id", "trade_id"),
    ),
    "orders": EntitySchema(
        "orders",
        _cols(
            "order_id:text! out_order_id:text order_type:int! card_id:text amount:money! "
            "fee:money! total_amount:money! currency:text! status:int! create_at:datetime! "
            "finish_at:datetime bill_list:json"
        ),
        ("customer_id", "order_id"),
    ),
    "wallets": EntitySchema(
        "wallets",
        _cols(
            "wallet_id:int! wallet_sn:text wallet_name:text currency:text! "
            "available_balance:money! freeze_balance:money status:int create_at:datetime"
        ),
        ("customer_id", "wallet_id"),
    ),
    "cards": EntitySchema(
        "cards",
        _cols(
            "app_id:int card_id:text! bin_id:text holder_id:text card_last4:text "
            "balance:money! limit:money! expiry:text status:int! use_at:datetime "
            "close_at:datetime end_at:datetime mark:text"
        ),
        ("customer_id", "card_id"),
    ),
    "exchange_rates": EntitySchema(
        "exchange_rates",
        _cols("from_currency:text! to_currency:text! rate:rate! update_at:datetime"),
        ("customer_id", "from_currency", "to_currency"),
    ),
}

CARD_SECRETS = ("card_no", "cvv", "pin")


def scrub_card(row: Mapping[str, Any]) -> dict[str, Any]:
    """The card without its secrets: PAN cut to its last four digits, CVV and PIN gone."""
    clean = {k: v for k, v in row.items() if k not in CARD_SECRETS}
    pan = row.get("card_no")
    digits = "".join(ch for ch in pan if ch.isdigit()) if isinstance(pan, str) else ""
    clean["card_last4"] = digits[-4:]
    return clean


def _convert(column: Column, value: object) -> object:
    if column.required and (value is None or value == ""):
        raise ValueRefused(f"{column.name}: required but missing")
    if column.kind == "text":
        return to_text(value, column.name)
    if value is None or value == "":
        return None
    if column.kind == "int":
        return to_int(value, column.name)
    if column.kind == "money":
        return to_decimal(value, column.name, MONEY_PLACES)
    if column.kind == "rate":
        return to_decimal(value, column.name, RATE_PLACES)
    if column.kind == "datetime":
        return to_datetime(value, column.name, DATETIME_FORMAT)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def raw_text(row: Mapping[str, Any]) -> str:
    """A row as JSON text for quarantine; numbers keep their exact digits."""
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


@dataclass
class Converted:
    rows: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]


def convert_rows(
    entity: str,
    customer_id: int,
    raw_rows: Iterable[Mapping[str, Any]],
    extra: Mapping[str, object] | None = None,
) -> Converted:
    """Typed rows for landing, and the rows refused with their reasons."""
    schema = SCHEMAS[entity]
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for raw in raw_rows:
        if not isinstance(raw, Mapping):
            quarantined.append(
                _quarantine(entity, customer_id, {}, f"row is not an object: {raw!r}")
            )
            continue
        try:
            row: dict[str, Any] = {"customer_id": customer_id}
            for column in schema.columns:
                row[column.name] = _convert(column, raw.get(column.name))
        except ValueRefused as refused:
            quarantined.append(_quarantine(entity, customer_id, raw, str(refused)))
            continue
        row.update(extra or {})
        rows.append(row)
    return Converted(rows, quarantined)


def _quarantine(
    entity: str, customer_id: int, raw: Mapping[str, Any], reason: str
) -> dict[str, Any]:
    schema = SCHEMAS[entity]
    key = "|".join(str(raw.get(k, "")) for k in schema.key if k != "customer_id")
    return {
        "entity": entity,
        "customer_id": customer_id,
        "row_key": key,
        "reason": reason,
        "raw": raw_text(raw),
    }


QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("provider", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("customer_id", pa.int64()),
        pa.field("row_key", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("window_start", pa.timestamp("s")),
        pa.field("window_end", pa.timestamp("s")),
        pa.field("fetched_at", pa.timestamp("s")),
    ]
)


def window_bounds(day: datetime) -> tuple[str, str]:
    """The API window [day, day+1) as provider datetime strings."""
    return day.strftime(DATETIME_FORMAT), (day + timedelta(days=1)).strftime(DATETIME_FORMAT)
