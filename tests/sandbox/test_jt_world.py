"""The JT world without anomalies is consistent; each anomaly breaks exactly what the manifest
says, judged from the served data alone."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sandbox import JT_ANOMALY_KINDS, JtApp, JtConfig, World, build_world
from tests.support.provider_clients import JtClient, pull_jt
from tests.support.provider_oracle import jt_gaps, manifest_findings, reconcile_jt
from tests.support.worlds import SMALL


def pulled(world: World, merchant_key: tuple[bytes, bytes]) -> dict[str, Any]:
    client = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    try:
        return pull_jt(client)
    finally:
        client.close()


def jt_world(**anomalies: int) -> World:
    return build_world(replace(SMALL, jt=JtConfig(anomalies=anomalies)))


def minor(text: str) -> int:
    """Manifest money (major-unit decimal text) in satang."""
    value = Decimal(text) * 100
    assert value == value.to_integral_value()
    return int(value)


def test_clean_world_holds_every_rule(
    clean_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    data = pulled(clean_world, merchant_key)
    assert reconcile_jt(data) == set()
    records = data["records"]
    # Guards the line above against passing on an empty or too tidy world.
    per_second = Counter((r["mchUuid"], r["createTime"]) for r in records)
    assert max(per_second.values()) >= 3  # a same-second burst
    assert {r["businessType"] for r in records} >= {"COD_SETTLEMENT", "WITHDRAW", "FEE"}
    for user in data["balance"]["list"]:
        mine = [r for r in records if r["mchUuid"] == user["mchUuid"]]
        assert len({r["createTime"][:10] for r in mine}) == clean_world.cfg.days


def test_default_world_manifest_names_exactly_the_violations(
    default_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    manifest = default_world.manifest()
    assert reconcile_jt(pulled(default_world, merchant_key)) == manifest_findings(manifest, "jt")
    rows = [a for a in manifest["anomalies"] if a["provider"] == "jt"]
    assert {a["check_name"] for a in rows} == set(JT_ANOMALY_KINDS)
    assert {a["entity_type"] for a in rows if a["check_name"] == "jt_balance_composition"} == {
        "user",
        "user_totals",
    }


@pytest.mark.parametrize(
    "anomalies",
    [
        {"chain_gap": 2},
        {"entry_arithmetic": 3},
        {"wallet_balance_mismatch": 2},
        {"duplicate_entry": 2},
        {"jt_balance_composition": 1},
        {"jt_balance_composition": 3},
    ],
)
def test_each_anomaly_kind_breaks_only_its_rule(
    anomalies: dict[str, int], merchant_key: tuple[bytes, bytes]
) -> None:
    world = jt_world(**anomalies)
    manifest = world.manifest()
    ((kind, n),) = anomalies.items()
    rows = [a for a in manifest["anomalies"] if a["provider"] == "jt"]
    assert len(rows) == n and {a["check_name"] for a in rows} == {kind}
    assert len({a["entity_id"] for a in rows}) == n
    assert reconcile_jt(pulled(world, merchant_key)) == manifest_findings(manifest, "jt")


def test_chain_gap_manifest_gives_neighbours_and_the_missing_amount(
    merchant_key: tuple[bytes, bytes],
) -> None:
    world = jt_world(chain_gap=3)
    data = pulled(world, merchant_key)
    gaps = {g["mchUuid"]: g for g in jt_gaps(data["records"])}
    served = {r["balanceRefNo"] for r in data["records"]}
    for a in world.manifest()["anomalies"]:
        gap = gaps[a["entity_id"]]
        assert (a["entity_type"], a["currency"]) == ("wallet", "THB")
        assert gap["transaction_ids"] == a["transaction_ids"]
        assert (minor(a["expected"]), minor(a["actual"])) == (gap["expected"], gap["actual"])
        assert minor(a["difference"]) == gap["actual"] - gap["expected"] != 0
        assert a["missing_transaction_id"] not in served
        (hidden,) = [
            r
            for u in world.jt.users
            for r in u.records
            if r.balance_ref_no == a["missing_transaction_id"]
        ]
        assert hidden.signed_amount() == minor(a["difference"])


def test_manifest_amounts_match_what_is_served(merchant_key: tuple[bytes, bytes]) -> None:
    world = jt_world(entry_arithmetic=1, wallet_balance_mismatch=1, jt_balance_composition=2)
    data = pulled(world, merchant_key)
    users = {u["mchUuid"]: u for u in data["balance"]["list"]}
    records = {r["balanceRefNo"]: r for r in data["records"]}
    for a in world.manifest()["anomalies"]:
        expected, actual = minor(a["expected"]), minor(a["actual"])
        assert minor(a["difference"]) == actual - expected != 0
        if a["check_name"] == "entry_arithmetic":
            r = records[a["entity_id"]]
            assert a["transaction_ids"] == [a["entity_id"]]
            assert (expected, actual) == (abs(r["afterBalance"] - r["beforeBalance"]), r["amount"])
        elif a["check_name"] == "wallet_balance_mismatch":
            u = users[a["entity_id"]]
            assert actual == u["balance"] == u["baseBalance"] + u["codBalance"]
        elif a["entity_type"] == "user":
            u = users[a["entity_id"]]
            assert (expected, actual) == (u["baseBalance"] + u["codBalance"], u["balance"])
        else:
            assert a["entity_id"] == "totalBalance"
            assert expected == sum(u["balance"] for u in users.values())
            assert actual == data["balance"]["totalBalance"]


def test_totals_anomaly_shows_only_when_no_users_are_named(
    merchant_key: tuple[bytes, bytes],
) -> None:
    world = jt_world(jt_balance_composition=2)
    client = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    try:
        everyone = client.data("/open-api/jt/wallet/balance")
        ids = [u["mchUuid"] for u in everyone["list"]]
        named = client.data("/open-api/jt/wallet/balance", mchUuidList=ids)
    finally:
        client.close()
    assert named["totalBalance"] == sum(u["balance"] for u in named["list"])
    assert everyone["totalBalance"] != named["totalBalance"]


@pytest.mark.parametrize(
    ("jt", "message"),
    [
        (JtConfig(users=1, anomalies={"chain_gap": 2}), "cannot plant 2 x JT chain_gap"),
        (JtConfig(anomalies={"jt_balance_composition": 4}), "at most 3"),
        (JtConfig(users=2, anomalies={"wallet_balance_mismatch": 3}), "wallet_balance_mismatch"),
    ],
)
def test_too_many_anomalies_fail_with_a_clear_error(jt: JtConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_world(replace(SMALL, jt=jt))


def test_unknown_anomaly_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown JT anomaly kinds"):
        JtConfig(anomalies={"fx_missing_leg": 1})
