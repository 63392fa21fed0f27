"""JT endpoints answer in the documented shape; paging, totals, filters and the clock hold."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from sandbox import JtApp, JtConfig, World, WorldConfig, build_world
from sandbox.model import DAY, fmt_time
from tests.support.provider_clients import BALANCE, JtClient
from tests.support.worlds import SMALL

# Field names and order as in seed 002 (the records row is defined in providers.md §2.2).
USER_FIELDS = [
    "mchUuid",
    "uuid",
    "centerNo",
    "branchNo",
    "balance",
    "baseBalance",
    "codBalance",
    "withdrawThreshold",
    "unclearBillAmountDue",
    "unclearBillAmount",
    "createTime",
    "updateTime",
    "KYCStatus",
    "authorizationStatus",
    "mobileVerificationStatus",
    "codEnableStatus",
    "userStatus",
]
BALANCE_DATA = [
    "total",
    "size",
    "current",
    "totalBalance",
    "totalBaseBalance",
    "totalCodBalance",
    "totalUnclearBillAmountDue",
    "totalUnclearBillAmount",
    "totalWithdrawThreshold",
    "list",
]
RECORD_FIELDS = [
    "balanceRefNo",
    "mchUuid",
    "uuid",
    "type",
    "businessType",
    "amount",
    "beforeBalance",
    "afterBalance",
    "mchOrderId",
    "createTime",
]
TOTALS = {
    "totalBalance": "balance",
    "totalBaseBalance": "baseBalance",
    "totalCodBalance": "codBalance",
    "totalWithdrawThreshold": "withdrawThreshold",
    "totalUnclearBillAmount": "unclearBillAmount",
    "totalUnclearBillAmountDue": "unclearBillAmountDue",
}


def test_balance_rows_have_the_seed_shape(jt: JtClient) -> None:
    data = jt.data(BALANCE)
    assert list(data) == BALANCE_DATA and data["size"] == 15
    users = data["list"]
    assert all(list(u) == USER_FIELDS for u in users)
    assert all(isinstance(u[f], int) for u in users for f in TOTALS.values())
    keys = [(u["createTime"], u["mchUuid"]) for u in users]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)
    assert all(u["mchUuid"].startswith("JT") and len(u["mchUuid"]) == 21 for u in users)
    assert all(u["uuid"].startswith("U") and len(u["uuid"]) == 20 for u in users)
    assert all(u["balance"] == u["baseBalance"] + u["codBalance"] for u in users)
    assert all(0 <= u["codBalance"] <= u["balance"] for u in users)
    assert {u["KYCStatus"] for u in users} - {"Approved"}


@pytest.mark.parametrize(
    "filters",
    [{}, {"KYCStatus": ["Approved", "Pending"]}, {"authorizationStatus": ["Authorized"]}],
)
def test_totals_are_sums_over_every_matching_user_on_every_page(
    jt: JtClient, filters: dict[str, Any]
) -> None:
    everyone = jt.data(BALANCE, size=100, **filters)
    assert everyone["total"] == len(everyone["list"]) >= 2
    page2 = jt.data(BALANCE, page=2, size=1, **filters)
    assert page2["list"] == everyone["list"][1:2]
    assert (page2["total"], page2["size"], page2["current"]) == (everyone["total"], 1, 2)
    for total, field in TOTALS.items():
        assert page2[total] == everyone[total] == sum(u[field] for u in everyone["list"])


def test_mch_uuid_list_and_status_filters_narrow_the_users(jt: JtClient) -> None:
    everyone = jt.data(BALANCE)["list"]
    wanted = [everyone[0]["mchUuid"], everyone[-1]["mchUuid"], "JT0000000000000000000"]
    chosen = jt.data(BALANCE, mchUuidList=wanted)
    assert [u["mchUuid"] for u in chosen["list"]] == wanted[:2]
    assert chosen["totalBalance"] == everyone[0]["balance"] + everyone[-1]["balance"]
    rejected = jt.data(BALANCE, KYCStatus=["Rejected"])["list"]
    assert rejected == [u for u in everyone if u["KYCStatus"] == "Rejected"]


def test_records_have_the_defined_shape_and_link_per_user(jt: JtClient) -> None:
    world = jt.app.world
    rows = jt.records(world.start, world.end)
    assert rows and all(list(r) == RECORD_FIELDS for r in rows)
    assert len({r["balanceRefNo"] for r in rows}) == len(rows)
    assert {r["type"] for r in rows} == {"CREDIT", "DEBIT"}
    assert all(isinstance(r[f], int) for r in rows for f in ("amount", "beforeBalance"))
    assert all(r["afterBalance"] >= 0 for r in rows)
    days = Counter(r["createTime"][:10] for r in rows)
    assert len(days) == world.cfg.days


@pytest.fixture(scope="module")
def busy_world() -> World:
    return build_world(
        WorldConfig(
            seed=3, customers=1, days=2, entries_per_day=10, jt=JtConfig(records_per_day=4000)
        )
    )


def test_paging_a_4000_record_day_returns_every_record_once_newest_first(
    busy_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    client = JtClient(JtApp(busy_world, merchant_key[1]), merchant_key[0])
    try:
        day = busy_world.start + DAY
        began = time.perf_counter()
        whole = client.records(day, day + DAY, size=10_000)
        paged = client.records(day, day + DAY, size=1_000)
        elapsed = time.perf_counter() - began
    finally:
        client.close()
    assert len(whole) >= 4000
    assert paged == whole
    assert len({r["balanceRefNo"] for r in whole}) == len(whole)
    times = [r["createTime"] for r in whole]
    assert times == sorted(times, reverse=True)
    assert times[0] < fmt_time(day + DAY) and times[-1] >= fmt_time(day)
    assert elapsed < 5, elapsed


def test_records_of_one_user_are_that_users_rows_in_the_same_order(jt: JtClient) -> None:
    world = jt.app.world
    everyone = jt.records(world.start, world.end)
    user = everyone[0]["mchUuid"]
    mine = jt.records(world.start, world.end, mchUuid=user)
    assert mine == [r for r in everyone if r["mchUuid"] == user]
    assert jt.records(world.start, world.end, mchUuid="JT0000000000000000000") == []


def test_the_clock_decides_what_is_visible(
    merchant_key: tuple[bytes, bytes],
) -> None:
    world = build_world(SMALL)
    client = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    try:
        world.set_now("2026-11-10 12:00:00")
        rows = client.records(world.start, world.end)
        assert rows and rows[0]["createTime"] <= "2026-11-10 12:00:00"
        users = client.data(BALANCE)["list"]
        for u in users:
            mine = [r for r in rows if r["mchUuid"] == u["mchUuid"]]
            assert u["updateTime"] == mine[0]["createTime"]
            # The newest record of a second is not necessarily the last booked; either way the
            # balance is one of that second's afterBalance values (the chain end).
            last = [r["afterBalance"] for r in mine if r["createTime"] == u["updateTime"]]
            assert u["balance"] in last
        world.set_now(world.start - 1)
        assert client.records(world.start - DAY, world.end) == []
        assert {u["balance"] for u in client.data(BALANCE)["list"]} == {0}
    finally:
        client.close()
