"""The OPEN-API endpoints of providers.md §1.3-1.6: parameters in, data objects out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox import rates
from sandbox.model import Customer, fmt_time, parse_time, rate_num
from sandbox.render import card_row, entry_row, order_row, trade_row, wallet_row
from sandbox.world import World

MAX_PAGE_SIZE = 500


class ParamError(ValueError):
    """A request parameter is missing or invalid (business code 1002)."""


@dataclass
class ListResult:
    """Every row of a list request, newest first; the app cuts the page."""

    key: str
    rows: Sequence[Any]
    render: Callable[[Any], dict[str, Any]]


def _int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise ParamError(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(f"{name} must be an integer")
    return value


def _str(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise ParamError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ParamError(f"{name} must be a string")
    return value


def _time(params: dict[str, Any], name: str) -> int | None:
    text = _str(params, name)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise ParamError(f"{name} must look like 'YYYY-MM-DD HH:MM:SS', got {text!r}") from None


def _window(params: dict[str, Any]) -> tuple[int | None, int | None]:
    start, end = _time(params, "start_time"), _time(params, "end_time")
    if start is not None and end is not None and start >= end:
        raise ParamError("start_time must be before end_time")
    return start, end


def page_params(params: dict[str, Any]) -> tuple[int, int]:
    page_no = _int(params, "page_no", required=True)
    page_size = _int(params, "page_size", required=True)
    assert page_no is not None and page_size is not None
    if page_no < 1:
        raise ParamError("page_no must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ParamError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return page_no, page_size


def wallet_list(world: World, c: Customer, params: dict[str, Any]) -> ListResult:
    page_params(params)
    sn, name, ccy = (_str(params, k) for k in ("wallet_sn", "wallet_name", "currency"))
    wallets = [
        w
        for w in sorted(c.wallets.values(), key=lambda w: w.wallet_id, reverse=True)
        if (sn is None or w.wallet_sn == sn)
        and (name is None or w.currency == name)
        and (ccy is None or w.currency == ccy)
    ]
    return ListResult(
        "wallet_list", wallets, lambda w: wallet_row(w, world.wallet_balance(w), world.now)
    )


def wallet_detail(world: World, c: Customer, params: dict[str, Any]) -> dict[str, Any]:
    sn = _str(params, "wallet_sn", required=True)
    for w in c.wallets.values():
        if w.wallet_sn == sn:
            return wallet_row(w, world.wallet_balance(w), world.now)
    raise ParamError(f"wallet_sn {sn} not found")


def transaction_list(world: World, c: Customer, params: dict[str, Any]) -> ListResult:
    page_params(params)
    start, end = _window(params)
    ccy = _str(params, "currency")
    ttype = _int(params, "transaction_type")
    io = _int(params, "in_out_type")
    status = _int(params, "status")
    now = world.now
    rows = [
        e
        for e in world.entries(c, start, end)
        if (ccy is None or e.currency == ccy)
        and (ttype is None or e.transaction_type == ttype)
        and (io is None or e.in_out_type == io)
        and (status is None or e.status_at_time(now) == status)
    ]
    return ListResult("transaction_list", rows, lambda e: entry_row(e, now))


def transaction_bill(world: World, c: Customer, params: dict[str, Any]) -> dict[str, Any]:
    tx_id = _str(params, "transaction_id", required=True)
    assert tx_id is not None
    now = world.now
    rows = sorted(world.transaction(c, tx_id), key=lambda e: e.in_out_type)
    return {"transaction_list": [entry_row(e, now) for e in rows]}


def exchange_rate(world: World, c: Customer, params: dict[str, Any]) -> dict[str, Any]:
    from_ccy = _str(params, "from_currency", required=True)
    to_ccy = _str(params, "to_currency", required=True)
    assert from_ccy is not None and to_ccy is not None
    for ccy in (from_ccy, to_ccy):
        if ccy not in world.cfg.currencies or not rates.supported(ccy):
            raise ParamError(f"unsupported currency {ccy}")
    return {
        "from_currency": from_ccy,
        "to_currency": to_ccy,
        "rate": rate_num(world.reference_rate_e8(from_ccy, to_ccy)),
        "update_at": fmt_time(world.now - world.now % 60),
    }


def card_list(world: World, c: Customer, params: dict[str, Any]) -> ListResult:
    page_params(params)
    bin_id, card_no = _str(params, "bin_id"), _str(params, "card_no")
    status = _int(params, "status")
    now = world.now
    cards = [
        k
        for k in world.cards(c)
        if (bin_id is None or k.bin_id == bin_id)
        and (card_no is None or k.card_no == card_no)
        and (status is None or k.status_at_time(now) == status)
    ]
    return ListResult("card_list", cards, lambda k: card_row(k, *world.card_state(k), now))


def card_detail(world: World, c: Customer, params: dict[str, Any]) -> dict[str, Any]:
    card_id = _str(params, "card_id", required=True)
    assert card_id is not None
    card = world.card(c, card_id)
    if card is None:
        raise ParamError(f"card_id {card_id} not found")
    return card_row(card, *world.card_state(card), world.now)


def card_trade_list(world: World, c: Customer, params: dict[str, Any]) -> ListResult:
    page_params(params)
    start, end = _window(params)
    card_id = _str(params, "card_id")
    now = world.now
    rows = [t for t in world.trades(c, start, end) if card_id is None or t.card_id == card_id]
    return ListResult("trade_list", rows, lambda t: trade_row(t, now))


def order_list(world: World, c: Customer, params: dict[str, Any]) -> ListResult:
    page_params(params)
    start, end = _window(params)
    order_type, status = _int(params, "order_type"), _int(params, "status")
    now = world.now
    rows = [
        o
        for o in world.orders(c, start, end)
        if (order_type is None or o.order_type == order_type)
        and (status is None or (o.status_final if now >= o.finish_at else 1) == status)
    ]
    return ListResult("order_list", rows, lambda o: order_row(o, now))


def order_detail(world: World, c: Customer, params: dict[str, Any]) -> dict[str, Any]:
    order_id = _str(params, "order_id", required=True)
    assert order_id is not None
    order = world.order(c, order_id)
    if order is None:
        raise ParamError(f"order_id {order_id} not found")
    return order_row(order, world.now)


Handler = Callable[[World, Customer, dict[str, Any]], "ListResult | dict[str, Any]"]

ROUTES: dict[str, Handler] = {
    "/openApi/wallet/walletList": wallet_list,
    "/openApi/wallet/walletDetail": wallet_detail,
    "/openApi/wallet/transactionList": transaction_list,
    "/openApi/wallet/getTransactionBill": transaction_bill,
    "/openApi/wallet/exchangeRate": exchange_rate,
    "/openApi/card/cardList": card_list,
    "/openApi/card/cardDetail": card_detail,
    "/openApi/card/cardTradeList": card_trade_list,
    "/openApi/order/orderList": order_list,
    "/openApi/order/orderDetail": order_detail,
}
