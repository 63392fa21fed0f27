"""Renders world objects as the provider's JSON, field names and order as in the seeds.

Money goes out as exact JSON numbers (`9865.29`, `10020`), never via float, so the
encoder below writes `Num` values raw. Everything else is plain JSON, UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.model import (
    TRANSACTION_TYPES,
    Card,
    Entry,
    Num,
    Order,
    Trade,
    Wallet,
    fmt_time,
    money,
)

_str = json.JSONEncoder(ensure_ascii=False).encode


def dumps(obj: Any) -> str:
    """JSON text with `Num` written as a raw number; deterministic for equal input."""
    if isinstance(obj, Num):
        return str.__str__(obj)
    if isinstance(obj, str):
        return _str(obj)
    if isinstance(obj, bool) or obj is None:
        return "true" if obj is True else "false" if obj is False else "null"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{_str(k)}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot render {type(obj).__name__}")


def wallet_row(w: Wallet, balance: int, now: int) -> dict[str, Any]:
    return {
        "wallet_id": w.wallet_id,
        "wallet_sn": w.wallet_sn,
        "wallet_name": w.currency,
        "customer_id": w.customer_id,
        "currency": w.currency,
        "available_balance": money(balance),
        "freeze_balance": money(w.freeze_balance),
        "status": w.status_at_time(now),
        "create_at": fmt_time(w.create_at),
    }


def entry_row(e: Entry, now: int) -> dict[str, Any]:
    status = e.status_at_time(now)
    decided = e.status_at is None or now >= e.status_at
    approve_at = e.create_at if e.status_at is None else e.status_at
    amount = e.amount if e.served_amount is None else e.served_amount
    return {
        "record_id": e.record_id,
        "transaction_id": e.transaction_id,
        "out_transaction_id": e.out_transaction_id,
        "product_id": TRANSACTION_TYPES[e.transaction_type][1],
        "in_out_type": e.in_out_type,
        "transaction_type": e.transaction_type,
        "transaction_desc": TRANSACTION_TYPES[e.transaction_type][0],
        "amount": money(amount),
        "currency": e.currency,
        "before_balance": money(e.before),
        "after_balance": money(e.after),
        "approve_type": e.approve_type if decided else 0,
        "approve_at": fmt_time(approve_at) if decided else "",
        "status": status,
        "reject_reason": e.reject_reason if decided else "",
        "attach": dumps(e.attach) if e.attach is not None else "",
        "remark": e.remark,
        "transaction_time": fmt_time(e.transaction_time),
        "create_at": fmt_time(e.create_at),
    }


def card_row(k: Card, balance: int, limit: int, now: int) -> dict[str, Any]:
    # The provider does return the full PAN, CVV and PIN; the pipeline must not keep them.
    status = k.status_at_time(now)
    return {
        "app_id": k.app_id,
        "card_id": k.card_id,
        "bin_id": k.bin_id,
        "holder_id": "",
        "card_no": k.card_no,
        "balance": money(balance),
        "limit": money(limit),
        "expiry": k.expiry,
        "cvv": k.cvv,
        "pin": k.pin,
        "status": status,
        "use_at": fmt_time(k.created_at),
        "close_at": fmt_time(k.close_at) if status >= 4 else "",
        "end_at": fmt_time(k.end_at) if status == 5 else "",
        "mark": "",
    }


def trade_row(t: Trade, now: int) -> dict[str, Any]:
    settled = t.settle_time is not None and t.settle_time <= now
    return {
        "trade_id": t.trade_id,
        "card_id": t.card_id,
        "origin_trade_id": t.origin_trade_id,
        "trade_type": t.trade_type,
        "trade_result": t.trade_result,
        "trade_amount": money(t.trade_amount),
        "trade_currency": t.trade_currency,
        "merchant_amount": money(t.merchant_amount),
        "merchant_currency": t.merchant_currency,
        "merchant_name": t.merchant_name,
        "mcc": t.mcc,
        "auth_code": t.auth_code,
        "trade_time": fmt_time(t.trade_time),
        "settle_time": fmt_time(t.settle_time) if settled else "",
    }


def order_row(o: Order, now: int) -> dict[str, Any]:
    finished = now >= o.finish_at
    status = o.status_final if finished else 1
    if o.order_type == 3:
        bills = [(1, 1, o.amount), (2, 2, o.fee)]
    else:
        bills = [(1, 2, o.amount), (2, 2, o.fee)]
    # A closure's refund is only known once the closure completes.
    show_amounts = finished or o.order_type != 3
    return {
        "order_id": o.order_id,
        "out_order_id": o.out_order_id,
        "order_type": o.order_type,
        "card_id": o.card_id,
        "amount": money(o.amount if show_amounts else 0),
        "fee": money(o.fee),
        "total_amount": money(o.total_amount if show_amounts else 0),
        "currency": o.currency,
        "status": status,
        "create_at": fmt_time(o.create_at),
        "finish_at": fmt_time(o.finish_at) if finished else "",
        "bill_list": [
            {"bill_type": bt, "in_out_type": io, "amount": money(a), "currency": o.currency}
            for bt, io, a in bills
            if show_amounts
        ],
    }
