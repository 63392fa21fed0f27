"""The manifest covers every provider in one shape, is deterministic for a seed, and the
world config (JT and Whalet included) round-trips through JSON."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

from sandbox import (
    JtApp,
    JtConfig,
    WhaletApp,
    WhaletConfig,
    World,
    WorldConfig,
    build_world,
    default_config,
)
from tests.support.provider_clients import BALANCE, RECORDS, JtClient, WhaletClient

MAJOR = re.compile(r"-?\d+(\.\d{1,2})?")
MINOR = re.compile(r"-?\d+")


def test_manifest_shape(default_world: World) -> None:
    manifest = default_world.manifest()
    assert manifest["providers"] == ["openapi", "jt", "whalet"] and "provider" not in manifest
    assert manifest["counts"] == {
        "openapi": {k: v for k, v in sorted(default_world.cfg.anomalies.items())},
        "jt": {
            "chain_gap": 1,
            "duplicate_entry": 1,
            "entry_arithmetic": 1,
            "jt_balance_composition": 2,
            "wallet_balance_mismatch": 1,
        },
        "whalet": {"money_unit_mismatch": 2, "whalet_platform_mismatch": 1},
    }
    rows = manifest["anomalies"]
    keys = [(a["provider"], a["check_name"], a["account_id"], a["entity_id"]) for a in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys) == 26 + 6 + 3
    for a in rows:
        assert isinstance(a["account_id"], str) and isinstance(a["transaction_ids"], list)
        assert a["currency"] and a["detail"] and a["entity_type"]
        money = MINOR if a["check_name"] == "money_unit_mismatch" else MAJOR
        if a["check_name"] == "fx_rate_deviation":
            continue  # rates, not money
        for field in ("expected", "actual", "difference"):
            assert a[field] is None or money.fullmatch(a[field]), (a, field)
    by_provider = {p: [a for a in rows if a["provider"] == p] for p in manifest["providers"]}
    assert all(a["account_id"] == str(a["customer_id"]) for a in by_provider["openapi"])
    assert {a["account_id"] for a in by_provider["jt"]} == {default_world.jt.app_id}
    assert {a["account_id"] for a in by_provider["whalet"]} <= {
        *default_world.whalet.user_ids,
        default_world.whalet.partner_id,
    }
    assert all(a["currency"] == "THB" for a in by_provider["jt"])
    assert not any("customer_id" in a for a in by_provider["jt"] + by_provider["whalet"])


def test_a_provider_without_anomalies_has_empty_counts() -> None:
    world = build_world(WorldConfig(seed=5, customers=1, days=2, anomalies={"chain_gap": 1}))
    manifest = world.manifest()
    assert manifest["counts"] == {"openapi": {"chain_gap": 1}, "jt": {}, "whalet": {}}
    assert [a["provider"] for a in manifest["anomalies"]] == ["openapi"]


def served(seed: int, merchant_key: tuple[bytes, bytes]) -> list[bytes]:
    world = build_world(default_config(seed))
    out = [world.manifest_json().encode()]
    jt = JtClient(JtApp(world, merchant_key[1]), merchant_key[0])
    whalet = WhaletClient(WhaletApp(world))
    try:
        window = {"startTime": "2026-11-10 00:00:00", "endTime": "2026-11-12 00:00:00"}
        for page in (1, 2):
            out.append(jt.post(RECORDS, json=jt.body({**window, "page": page})).content)
        out.append(jt.post(BALANCE, json=jt.body({})).content)
        for user in world.whalet.user_ids:
            body = {"userId": user, "fundSource": "B2B"}
            out.append(repr(whalet.data("/v1/wallet/queryCurrencyBalance", **body)).encode())
    finally:
        jt.close()
        whalet.close()
    return out


def test_same_seed_same_bytes(merchant_key: tuple[bytes, bytes]) -> None:
    first, second = served(5, merchant_key), served(5, merchant_key)
    assert first == second
    other = served(6, merchant_key)
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_config_round_trips_through_json() -> None:
    for cfg in (
        default_config(3),
        WorldConfig(
            seed=9,
            start_date=date(2027, 1, 4),
            jt=JtConfig(users=6, records_per_day=200, currency="THB", anomalies={"chain_gap": 2}),
            whalet=WhaletConfig(users=3, currencies=("USD", "HKD"), token_ttl_seconds=60),
        ),
    ):
        text = json.dumps(cfg.to_json())
        assert WorldConfig.from_json(json.loads(text)) == cfg
    data = default_config().to_json()
    assert data["whalet"]["currencies"] == ["USD", "EUR", "CNY"]
    assert data["jt"]["anomalies"]["jt_balance_composition"] == 2


def test_partial_provider_config_keeps_the_other_defaults() -> None:
    cfg = WorldConfig.from_json({"seed": 1, "jt": {"users": 2}, "whalet": {"users": 1}})
    assert cfg.jt == JtConfig(users=2) and cfg.whalet == WhaletConfig(users=1)
    assert replace(cfg, jt=JtConfig()).jt.records_per_day == 60
