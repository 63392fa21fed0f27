"""Transfers between OPEN-API and JT: both sides agree, chains still link, and each planted
transfer breaks exactly its own rule (providers.md §4)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sandbox import JtApp, JtConfig, World, WorldConfig, build_world
from tests.support.oracle import manifest_findings, reconcile, transfer_findings
from tests.support.provider_clients import JtClient, pull_jt
from tests.support.provider_oracle import manifest_findings as provider_manifest_findings
from tests.support.provider_oracle import reconcile_jt
from tests.support.worlds import SMALL, pull_world

TRANSFER_WORLD = replace(
    SMALL,
    currencies=("USD", "EUR", "THB"),
    transfers_per_day=4,
    anomalies={"transfer_unmatched": 2, "transfer_amount_mismatch": 2},
)


def served(world: World, merchant_key: tuple[bytes, bytes]) -> tuple[list[Any], dict[str, Any]]:
    jt = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    try:
        return pull_world(world), pull_jt(jt)
    finally:
        jt.close()


def test_planted_transfers_are_exactly_the_violations(merchant_key: tuple[bytes, bytes]) -> None:
    world = build_world(TRANSFER_WORLD)
    customers, jt = served(world, merchant_key)
    manifest = world.manifest()
    found = set().union(*(reconcile(c) for c in customers))
    assert found == set()  # every other OPEN-API rule holds with the transfers in the chains
    assert transfer_findings(customers, jt["records"]) == manifest_findings(manifest)
    assert reconcile_jt(jt) == provider_manifest_findings(manifest, "jt") == set()
    for row in manifest["anomalies"]:
        assert row["entity_type"] == "transfer" and row["currency"] == "THB"
        assert row["entity_id"] == row["transfer_ref"]
        expected, actual = Decimal(row["expected"]), Decimal(row["actual"])
        if row["check_name"] == "transfer_unmatched":
            assert actual == 0 and len(row["transaction_ids"]) == 1
        else:
            assert actual != expected and len(row["transaction_ids"]) == 2
        assert Decimal(row["difference"]) == actual - expected


def test_clean_transfers_go_both_ways_and_pair(merchant_key: tuple[bytes, bytes]) -> None:
    world = build_world(replace(TRANSFER_WORLD, anomalies={}))
    customers, jt = served(world, merchant_key)
    assert transfer_findings(customers, jt["records"]) == set()
    by_ref = {r["mchOrderId"]: r for r in jt["records"]}
    out = inbound = 0
    for customer in customers:
        for e in customer["entries"]:
            if e["transaction_type"] == 5010 and "transfer_ref" in e["attach"]:
                attach = json.loads(e["attach"], parse_float=Decimal, parse_int=Decimal)
                credit = by_ref[attach["transfer_ref"]]
                assert (
                    credit["type"] == "CREDIT"
                    and credit["mchUuid"] == (attach["destination"]["account"])
                )
                assert Decimal(credit["amount"]) / 100 == Decimal(attach["pay_out_amount"])
                out += 1
            elif e["remark"].startswith("TRANSFER "):
                debit = by_ref[e["remark"].removeprefix("TRANSFER ")]
                assert debit["type"] == "DEBIT" and Decimal(debit["amount"]) / 100 == e["amount"]
                assert debit["createTime"] <= e["transaction_time"]
                inbound += 1
    assert out > 0 and inbound > 0 and out + inbound == 4 * TRANSFER_WORLD.days


def test_a_world_without_transfers_is_the_world_it_was() -> None:
    plain = build_world(SMALL)
    assert not any(e.remark.startswith("TRANSFER") for c in plain.customers for e in c.entries)
    assert not any(r.mch_order_id.startswith("TRF") for u in plain.jt.users for r in u.records)


def test_a_world_with_transfers_gets_a_wallet_in_jts_currency() -> None:
    cfg = WorldConfig(anomalies={"transfer_unmatched": 1})
    assert cfg.currencies == (*WorldConfig().currencies, "THB")
    assert WorldConfig.from_json(cfg.to_json()) == cfg
    world = build_world(replace(cfg, customers=1, days=2))
    assert set(world.customers[0].wallets) == set(cfg.currencies)
    with pytest.raises(ValueError, match="no reference rate for JT's XYZ"):
        WorldConfig(transfers_per_day=1, jt=JtConfig(currency="XYZ"))
