"""The world without anomalies is consistent; each anomaly breaks exactly what the manifest says."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from sandbox import ANOMALY_KINDS, JtApp, World, build_world
from tests.support.oracle import chain_findings, manifest_findings, reconcile, transfer_findings
from tests.support.provider_clients import JtClient, pull_jt
from tests.support.worlds import SMALL, pull_world


def test_clean_world_holds_every_invariant(clean_data: list[dict[str, Any]]) -> None:
    for customer in clean_data:
        assert reconcile(customer) == set()


def test_clean_world_has_a_nonempty_ledger_of_every_kind(clean_data: list[dict[str, Any]]) -> None:
    # Guards the invariant test above against passing on an empty world.
    for customer in clean_data:
        types = Counter(e["transaction_type"] for e in customer["entries"])
        assert set(types) == {1010, 3010, 4010, 4020, 4030, 5010, 5020, 9010}
        assert {t["trade_type"] for t in customer["trades"]} == {1, 2, 3, 4, 5}
        assert {t["trade_result"] for t in customer["trades"]} == {1, 2, 3}
        assert {o["status"] for o in customer["orders"]} >= {2, 3}
        assert {k["status"] for k in customer["cards"]} >= {2, 5}
        assert len(customer["wallets"]) == 4


def test_each_wallet_chain_ends_at_the_reported_balance(clean_data: list[dict[str, Any]]) -> None:
    for customer in clean_data:
        for w in customer["wallets"]:
            rows = [e for e in customer["entries"] if e["currency"] == w["currency"]]
            net = sum((e["amount"] if e["in_out_type"] == 1 else -e["amount"]) for e in rows)
            # The world opens every wallet at zero, so the movements add up to the balance.
            assert net == w["available_balance"]


def test_default_world_has_the_awkward_cases(default_data: list[dict[str, Any]]) -> None:
    bursts = straddles = identical = pending = rejected = late = 0
    for customer in default_data:
        entries = customer["entries"]
        per_second = Counter((e["currency"], e["transaction_time"]) for e in entries)
        bursts += sum(1 for n in per_second.values() if n >= 3)
        same = Counter((e["currency"], e["transaction_time"], e["amount"]) for e in entries)
        identical += sum(1 for n in same.values() if n >= 2)
        legs: dict[str, set[str]] = {}
        for e in entries:
            if e["transaction_type"] == 3010:
                legs.setdefault(e["transaction_id"], set()).add(e["transaction_time"][:10])
        straddles += sum(1 for days in legs.values() if len(days) == 2)
        pending += sum(1 for e in entries if e["transaction_type"] == 5010 and e["status"] == 1)
        rejected += sum(1 for e in entries if e["status"] == 3)
        late += sum(1 for e in entries if e["create_at"][:10] > e["transaction_time"][:10])
    assert bursts >= 1 and straddles >= 1 and identical >= 1
    assert pending >= 1 and rejected >= 1 and late >= 1


def test_default_world_manifest_names_exactly_the_violations(
    default_world: World, default_data: list[dict[str, Any]], merchant_key: tuple[bytes, bytes]
) -> None:
    found = set().union(*(reconcile(c) for c in default_data))
    jt = JtClient(JtApp(default_world, merchant_key[1]), merchant_key[0])
    try:
        found |= transfer_findings(default_data, pull_jt(jt)["records"])
    finally:
        jt.close()
    manifest = default_world.manifest()
    assert found == manifest_findings(manifest)
    openapi = [a for a in manifest["anomalies"] if a["provider"] == "openapi"]
    assert {a["check_name"] for a in openapi} == set(ANOMALY_KINDS)


@pytest.mark.parametrize("kind", ANOMALY_KINDS)
def test_each_anomaly_kind_breaks_only_its_rule(
    kind: str, merchant_key: tuple[bytes, bytes]
) -> None:
    world = build_world(SMALL.with_anomalies(**{kind: 2}))
    manifest = world.manifest()
    assert len(manifest["anomalies"]) == 2
    assert {a["check_name"] for a in manifest["anomalies"]} == {kind}
    data = pull_world(world)
    found = set().union(*(reconcile(c) for c in data))
    jt = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    try:
        found |= transfer_findings(data, pull_jt(jt)["records"])
    finally:
        jt.close()
    assert found == manifest_findings(manifest)


def test_chain_gap_manifest_gives_neighbours_and_the_missing_amount() -> None:
    world = build_world(SMALL.with_anomalies(chain_gap=2))
    data = {c["customer_id"]: c for c in pull_world(world)}
    for a in world.manifest()["anomalies"]:
        gaps = chain_findings(a["customer_id"], data[a["customer_id"]]["entries"])
        (gap,) = [g for g in gaps if g["entity_id"] == a["entity_id"]]
        assert gap["transaction_ids"] == a["transaction_ids"]
        assert str(gap["expected"]) == a["expected"] and str(gap["actual"]) == a["actual"]
        hidden = [
            e
            for c in world.customers
            for e in c.entries
            if e.transaction_id == a["missing_transaction_id"]
        ]
        assert len(hidden) == 1 and hidden[0].hidden
        assert hidden[0].signed_amount() == round((gap["actual"] - gap["expected"]) * 100)


def test_too_many_anomalies_fail_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot plant 500 x wallet_balance_mismatch"):
        build_world(SMALL.with_anomalies(wallet_balance_mismatch=500))
