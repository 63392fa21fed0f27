"""OPEN-API rows as typed records: one schema per entity, strict conversion, quarantine reasons.

A row either converts exactly (every amount a Decimal at the provider's precision, every time
a naive datetime in the provider's zone) or is refused whole with the reason; nothing is
rounded, guessed or dropped. Card secrets never get this far: see `scrub_card`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.openapi.profile import PROFILE
from connectors.schema import Columns, Converted, EntitySchema, cols
from connectors.schema import convert_rows as convert
from connectors.schema import convert_table as convert_columns

DATETIME_FORMAT = PROFILE.datetime_format


SCHEMAS: dict[str, EntitySchema] = {
    "transactions": EntitySchema(
        "transactions",
        cols(
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
        cols(
            "trade_id:text! card_id:text! origin_trade_id:text trade_type:int! "
            "trade_result:int! trade_amount:money! trade_currency:text! merchant_amount:money "
            "merchant_currency:text merchant_name:text mcc:text auth_code:text "
            "trade_time:datetime! settle_time:datetime"
        ),
        ("customer_id", "trade_id"),
    ),
    "orders": EntitySchema(
        "orders",
        cols(
            "order_id:text! out_order_id:text order_type:int! card_id:text amount:money! "
            "fee:money! total_amount:money! currency:text! status:int! create_at:datetime! "
            "finish_at:datetime bill_list:json"
        ),
        ("customer_id", "order_id"),
    ),
    "wallets": EntitySchema(
        "wallets",
        cols(
            "wallet_id:int! wallet_sn:text wallet_name:text currency:text! "
            "available_balance:money! freeze_balance:money status:int create_at:datetime"
        ),
        ("customer_id", "wallet_id"),
    ),
    "cards": EntitySchema(
        "cards",
        cols(
            "app_id:int card_id:text! bin_id:text holder_id:text card_last4:text "
            "balance:money! limit:money! expiry:text status:int! use_at:datetime "
            "close_at:datetime end_at:datetime mark:text"
        ),
        ("customer_id", "card_id"),
    ),
    "exchange_rates": EntitySchema(
        "exchange_rates",
        cols("from_currency:text! to_currency:text! rate:rate! update_at:datetime"),
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


def convert_rows(
    entity: str,
    customer_id: int,
    raw_rows: Iterable[object],
    extra: Mapping[str, object] | None = None,
) -> Converted:
    """Typed rows of one customer's entity for landing, and the rows refused with reasons."""
    return convert(SCHEMAS[entity], customer_id, raw_rows, DATETIME_FORMAT, extra)


def convert_table(entity: str, customer_id: int, raw_rows: Iterable[object]) -> Columns:
    """Typed rows of one customer's entity as Arrow columns (a window's rows, landed as they
    are), and the rows refused with reasons."""
    return convert_columns(SCHEMAS[entity], customer_id, raw_rows, DATETIME_FORMAT)
