"""Every endpoint answers in the documented shape; paging, filters and windows are honoured."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sandbox import SandboxApp, World, build_world
from tests.support.sandbox_client import SandboxClient
from tests.support.worlds import SMALL

# Field names and order as in the seed pages (000_, 001_, 004_) and providers.md §1.
WALLET_FIELDS = [
    "wallet_id",
    "wallet_sn",
    "wallet_name",
    "customer_id",
    "currency",
    "available_balance",
    "freeze_balance",
    "status",
    "create_at",
]
ENTRY_FIELDS = [
    "record_id",
    "transaction_id",
    "out_transaction_id",
    "product_id",
    "in_out_type",
    "transaction_type",
    "transaction_desc",
    "amount",
    "currency",
    "before_balance",
    "after_balance",
    "approve_type",
    "approve_at",
    "status",
    "reject_reason",
    "attach",
    "remark",
    "transaction_time",
    "create_at",
]
CARD_FIELDS = [
    "app_id",
    "card_id",
    "bin_id",
    "holder_id",
    "card_no",
    "balance",
    "limit",
    "expiry",
    "cvv",
    "pin",
    "status",
    "use_at",
    "close_at",
    "end_at",
    "mark",
]
TRADE_FIELDS = [
    "trade_id",
    "card_id",
    "origin_trade_id",
    "trade_type",
    "trade_result",
    "trade_amount",
    "trade_currency",
    "merchant_amount",
    "merchant_currency",
    "merchant_name",
    "mcc",
    "auth_code",
    "trade_time",
    "settle_time",
]
ORDER_FIELDS = [
    "order_id",
    "out_order_id",
    "order_type",
    "card_id",
    "amount",
    "fee",
    "total_amount",
    "currency",
    "status",
    "create_at",
    "finish_at",
    "bill_list",
]
TX = "/openApi/wallet/transactionList"


@pytest.fixture
def cred(clean_world: World) -> dict[str, Any]:
    return clean_world.credentials()[0]


def test_list_shapes_match_the_seeds(client: SandboxClient, cred: dict[str, Any]) -> None:
    for path, key, fields in [
        ("/openApi/wallet/walletList", "wallet_list", WALLET_FIELDS),
        (TX, "transaction_list", ENTRY_FIELDS),
        ("/openApi/card/cardList", "card_list", CARD_FIELDS),
        ("/openApi/card/cardTradeList", "trade_list", TRADE_FIELDS),
        ("/openApi/order/orderList", "order_list", ORDER_FIELDS),
    ]:
        envelope = client.call(path, cred, page_no=1, page_size=3)
        assert (envelope["code"], envelope["message"]) == (0, "success")
        data = envelope["data"]
        assert list(data) == ["total", "page_no", "page_size", key]
        assert data["page_no"] == 1 and data["page_size"] == 3 and len(data[key]) == 3
        for row in data[key]:
            assert list(row) == fields


def test_money_is_served_as_exact_json_numbers(client: SandboxClient, cred: dict[str, Any]) -> None:
    response = client.raw(TX, {**cred, "page_no": 1, "page_size": 50})
    rows = json.loads(response.text, parse_float=Decimal)["data"]["transaction_list"]
    for row in rows:
        assert isinstance(row["amount"], int | Decimal) and row["amount"] > 0
        assert f'"amount":{row["amount"]}' in response.text  # no quoting, no float noise


def test_detail_endpoints_agree_with_lists(client: SandboxClient, cred: dict[str, Any]) -> None:
    wallet = client.data("/openApi/wallet/walletList", cred, page_no=1, page_size=1)
    first = wallet["wallet_list"][0]
    assert client.data("/openApi/wallet/walletDetail", cred, wallet_sn=first["wallet_sn"]) == first
    card = client.data("/openApi/card/cardList", cred, page_no=1, page_size=1)["card_list"][0]
    assert client.data("/openApi/card/cardDetail", cred, card_id=card["card_id"]) == card
    order = client.data("/openApi/order/orderList", cred, page_no=1, page_size=1)["order_list"][0]
    assert client.data("/openApi/order/orderDetail", cred, order_id=order["order_id"]) == order


def test_transaction_bill_returns_both_legs_of_an_exchange(
    client: SandboxClient, cred: dict[str, Any]
) -> None:
    rows = client.list_all(TX, "transaction_list", cred, transaction_type=3010)
    tx_id = rows[0]["transaction_id"]
    legs = client.data("/openApi/wallet/getTransactionBill", cred, transaction_id=tx_id)
    legs = legs["transaction_list"]
    assert sorted(leg["in_out_type"] for leg in legs) == [1, 2]
    assert len({leg["currency"] for leg in legs}) == 2
    assert all(leg in rows for leg in legs)


def test_paging_returns_every_row_exactly_once(client: SandboxClient, cred: dict[str, Any]) -> None:
    everything = client.list_all(TX, "transaction_list", cred, page_size=500)
    for size in (1, 7, 100):
        paged = client.list_all(TX, "transaction_list", cred, page_size=size)
        assert paged == everything
    keys = [(e["transaction_id"], e["in_out_type"], e["currency"]) for e in everything]
    assert len(keys) == len(set(keys))
    times = [e["transaction_time"] for e in everything]
    assert times == sorted(times, reverse=True)  # newest first


def test_pages_past_the_end_are_empty(client: SandboxClient, cred: dict[str, Any]) -> None:
    data = client.data(TX, cred, page_no=10_000, page_size=500)
    assert data["transaction_list"] == [] and data["total"] > 0


def test_filters_and_time_windows(client: SandboxClient, cred: dict[str, Any]) -> None:
    everything = client.list_all(TX, "transaction_list", cred)
    window: dict[str, Any] = {
        "start_time": "2026-11-10 00:00:00",
        "end_time": "2026-11-11 00:00:00",
    }
    day = client.list_all(TX, "transaction_list", cred, **window)
    assert day == [
        e for e in everything if window["start_time"] <= e["transaction_time"] < window["end_time"]
    ]
    usd_out = client.list_all(TX, "transaction_list", cred, currency="USD", in_out_type=2)
    assert usd_out == [e for e in everything if e["currency"] == "USD" and e["in_out_type"] == 2]
    pending = client.list_all(TX, "transaction_list", cred, status=1, transaction_type=5010)
    assert pending and pending == [
        e for e in everything if e["status"] == 1 and e["transaction_type"] == 5010
    ]
    trades = client.list_all("/openApi/card/cardTradeList", "trade_list", cred, **window)
    assert trades and all(
        window["start_time"] <= t["trade_time"] < window["end_time"] for t in trades
    )
    orders = client.list_all("/openApi/order/orderList", "order_list", cred, order_type=2, **window)
    assert orders and all(o["order_type"] == 2 for o in orders)
    assert all(window["start_time"] <= o["create_at"] < window["end_time"] for o in orders)


@pytest.mark.parametrize(
    "params",
    [
        {"page_no": 1, "page_size": 501},
        {"page_no": 0, "page_size": 10},
        {"page_size": 10},
        {"page_no": 1, "page_size": 10, "start_time": "2026-11-10"},
        {"page_no": 1, "page_size": "10"},
    ],
)
def test_bad_parameters_get_code_1002(
    client: SandboxClient, cred: dict[str, Any], params: dict[str, Any]
) -> None:
    assert client.call(TX, cred, **params)["code"] == 1002


def test_wrong_credentials_get_code_1001(client: SandboxClient, cred: dict[str, Any]) -> None:
    bad = {**cred, "key": "0" * 32}
    envelope = client.call(TX, bad, page_no=1, page_size=10)
    assert envelope["code"] == 1001 and str(cred["customer_id"]) in envelope["message"]
    assert "0" * 32 not in envelope["message"]


def test_unknown_endpoint_is_404(client: SandboxClient, cred: dict[str, Any]) -> None:
    assert client.raw("/openApi/wallet/nothing", cred).status_code == 404


def test_customers_see_only_their_own_data(clean_world: World) -> None:
    client = SandboxClient(SandboxApp(clean_world))
    a, b = clean_world.credentials()
    rows_a = client.list_all(TX, "transaction_list", a)
    rows_b = client.list_all(TX, "transaction_list", b)
    assert not {e["transaction_id"] for e in rows_a} & {e["transaction_id"] for e in rows_b}
    client.close()


def test_clock_reveals_new_days_and_late_rows() -> None:
    world = build_world(replace(SMALL, late_entry_rate=0.2))
    client = SandboxClient(SandboxApp(world))
    cred = world.credentials()[0]
    world.set_now("2026-11-11 00:00:00")
    early = client.list_all(TX, "transaction_list", cred)
    assert max(e["transaction_time"] for e in early) < "2026-11-11 00:00:00"
    assert all(e["create_at"] <= "2026-11-11 00:00:00" for e in early)
    world.advance(86_400)
    later = client.list_all(TX, "transaction_list", cred)
    closed_day: dict[str, Any] = {
        "start_time": "2026-11-09 00:00:00",
        "end_time": "2026-11-11 00:00:00",
    }
    before = [e for e in early if e["transaction_time"] < closed_day["end_time"]]
    after = client.list_all(TX, "transaction_list", cred, **closed_day)
    assert max(e["transaction_time"] for e in later) >= "2026-11-11 00:00:00"
    # Late rows: booked in an already-closed day, created after the earlier clock.
    late = [e for e in after if e["create_at"] > "2026-11-11 00:00:00"]
    assert late and len(after) == len(before) + len(late)
    client.close()


def test_status_changes_over_time() -> None:
    world = build_world(SMALL.with_anomalies())
    client = SandboxClient(SandboxApp(world))
    cred = world.credentials()[0]
    world.set_now("2026-11-11 00:00:00")
    pending = {
        e["transaction_id"]: e
        for e in client.list_all(TX, "transaction_list", cred, status=1, transaction_type=5010)
    }
    world.set_now(world.end)
    now = {e["transaction_id"]: e for e in client.list_all(TX, "transaction_list", cred)}
    decided = [tx for tx in pending if now[tx]["status"] != 1]
    assert decided and all(now[tx]["approve_at"] for tx in decided)
    client.close()
