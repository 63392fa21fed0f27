"""Whalet: tokens (issue, expiry, revocation), balances as Money objects, platform sums, errors
and faults, over the app's real ASGI interface."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sandbox import FaultConfig, WhaletApp, WhaletConfig, World, build_world
from sandbox.whalet import FUND_SOURCES
from tests.support.provider_clients import WhaletClient, pull_whalet
from tests.support.provider_oracle import MONEY_FIELDS, manifest_findings, reconcile_whalet
from tests.support.worlds import SMALL

CURRENCY = "/v1/wallet/queryCurrencyBalance"
PLATFORM = "/v1/wallet/queryPlatformBalance"
RECORD_FIELDS = ["balance", "orderQuota", "currency", "rmbAmount", "pendingAmount", "freezeAmount"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_issued_to_the_partner_client(whalet: WhaletClient) -> None:
    envelope = whalet.issue()
    assert envelope["code"] == "SUCCESS" and envelope["message"] == "success"
    data = envelope["data"]
    assert list(data) == ["token", "expire", "tokenType"]
    assert data["expire"] == 7200 and data["tokenType"] == "Bearer"
    assert data["token"] != whalet.issue()["data"]["token"]
    assert whalet.app.tokens_issued == 2


@pytest.mark.parametrize("wrong", ["partnerId", "clientId", "secretKey"])
def test_wrong_credentials_are_unauthorized(whalet: WhaletClient, wrong: str) -> None:
    body = {"clientId": whalet.cred["client_id"], "secretKey": whalet.cred["secret_key"]}
    headers = whalet.headers()
    if wrong == "partnerId":
        headers["partnerId"] = "P0000000000"
    else:
        body[wrong] = "0" * len(body[wrong])
    envelope = whalet.post("/v1/auth/token", json=body, headers=headers).json()
    assert envelope["code"] == "UNAUTHORIZED" and "data" not in envelope
    assert whalet.cred["secret_key"] not in envelope["message"]
    assert whalet.app.tokens_issued == 0


@pytest.mark.parametrize("missing", ["requestNo", "timestamp"])
def test_every_call_needs_request_no_and_timestamp(whalet: WhaletClient, missing: str) -> None:
    token = whalet.issue()["data"]["token"]
    headers = whalet.headers(token)
    del headers[missing]
    body = {"userId": whalet.cred["user_ids"][0], "fundSource": "B2C"}
    envelope = whalet.post(CURRENCY, json=body, headers=headers).json()
    assert envelope["code"] == "PARAMETER_ERROR" and missing in envelope["message"]


def test_business_calls_need_a_live_token(clean_world: World) -> None:
    clock = Clock()
    app = WhaletApp(clean_world, clock=clock)
    client = WhaletClient(app)
    try:
        body = {"userId": client.cred["user_ids"][0], "fundSource": "B2B"}
        assert client.call(CURRENCY, None, **body)["code"] == "TokenInvalid"
        assert client.call(CURRENCY, "made-up", **body)["code"] == "TokenInvalid"
        token = client.issue()["data"]["token"]
        assert client.call(CURRENCY, token, **body)["code"] == "SUCCESS"
        headers = {**client.headers(), "Authorization": f"Token {token}"}
        assert client.post(CURRENCY, json=body, headers=headers).json()["code"] == "TokenInvalid"
        clock.now += 7199
        assert client.call(CURRENCY, token, **body)["code"] == "SUCCESS"
        clock.now += 1
        assert client.call(CURRENCY, token, **body)["code"] == "TokenInvalid"
    finally:
        client.close()


def test_revoked_tokens_are_refused_and_a_client_fetches_one_again(whalet: WhaletClient) -> None:
    body = {"userId": whalet.cred["user_ids"][1], "fundSource": "Acquiring"}
    first = whalet.data(CURRENCY, **body)
    assert whalet.app.tokens_issued == 1
    assert whalet.data(CURRENCY, **body) == first and whalet.app.tokens_issued == 1  # cached
    stale = whalet.token
    whalet.app.revoke_tokens()
    assert whalet.call(CURRENCY, stale, **body)["code"] == "TokenInvalid"
    assert whalet.data(CURRENCY, **body) == first
    assert whalet.app.tokens_issued == 2 and whalet.token != stale


def test_token_ttl_comes_from_the_config() -> None:
    world = build_world(replace(SMALL, whalet=WhaletConfig(token_ttl_seconds=60)))
    client = WhaletClient(WhaletApp(world))
    try:
        assert client.issue()["data"]["expire"] == 60
    finally:
        client.close()


def test_currency_balance_records_are_money_objects(whalet: WhaletClient) -> None:
    user = whalet.cred["user_ids"][0]
    records = whalet.data(CURRENCY, userId=user, fundSource="B2C")["records"]
    assert [r["currency"] for r in records] == ["USD", "EUR", "CNY"]
    for r in records:
        assert list(r) == RECORD_FIELDS
        for field in MONEY_FIELDS:
            money = r[field]
            assert list(money) == ["amount", "cent", "centFactor", "currency"]
            assert isinstance(money["cent"], int) and money["centFactor"] == 100
            assert money["currency"] == ("CNY" if field == "rmbAmount" else r["currency"])
            assert Decimal(money["amount"]) * 100 == money["cent"]
        assert r["balance"]["cent"] > 0 and r["orderQuota"]["cent"] > 0
    only_eur = whalet.data(CURRENCY, userId=user, fundSource="B2C", currency="EUR")["records"]
    assert only_eur == [records[1]]
    assert whalet.data(CURRENCY, userId=user, fundSource="B2C", currency="")["records"] == records


def test_amounts_are_exact_json_numbers(whalet: WhaletClient) -> None:
    token = whalet.issue()["data"]["token"]
    body = {"userId": whalet.cred["user_ids"][0], "fundSource": "B2C"}
    text = whalet.post(CURRENCY, json=body, headers=whalet.headers(token)).text
    record = json.loads(text, parse_float=Decimal)["data"]["records"][0]
    assert f'"amount":{record["balance"]["amount"]},' in text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"fundSource": "B2C"}, "userId"),
        ({"userId": "W000000000000", "fundSource": "B2C"}, "userId"),
        ({"userId": None, "fundSource": "B2C"}, "userId"),
        ({"userId": "USER", "fundSource": "Retail"}, "fundSource"),
        ({"userId": "USER"}, "fundSource"),
        ({"userId": "USER", "fundSource": "B2C", "currency": 840}, "currency"),
    ],
)
def test_bad_parameters(whalet: WhaletClient, body: dict[str, Any], needle: str) -> None:
    if body.get("userId") == "USER":
        body = {**body, "userId": whalet.cred["user_ids"][0]}
    token = whalet.issue()["data"]["token"]
    envelope = whalet.call(CURRENCY, token, **body)
    assert envelope["code"] == "PARAMETER_ERROR" and needle in envelope["message"]
    assert whalet.call(PLATFORM, token, fundSource="Retail")["code"] == "PARAMETER_ERROR"


def test_platform_balance_sums_the_users(clean_world: World, whalet: WhaletClient) -> None:
    data = pull_whalet(whalet)
    for fund in FUND_SOURCES:
        for record in data["platform"][fund]:
            for field in MONEY_FIELDS:
                users = [
                    r[field]["cent"]
                    for (_, f), records in data["users"].items()
                    for r in records
                    if f == fund and r["currency"] == record["currency"]
                ]
                assert record[field]["cent"] == sum(users)
    for i, record in enumerate(data["platform"]["all"]):
        for field in MONEY_FIELDS:
            parts = [data["platform"][fund][i][field]["cent"] for fund in FUND_SOURCES]
            assert record[field]["cent"] == sum(parts)


def test_clean_world_money_holds_and_planted_cents_are_off(
    clean_world: World, default_world: World
) -> None:
    for world in (clean_world, default_world):
        client = WhaletClient(WhaletApp(world))
        try:
            found = reconcile_whalet(pull_whalet(client))
        finally:
            client.close()
        manifest = world.manifest()
        assert found == manifest_findings(manifest, "whalet")
    assert len(found) == 3
    for a in manifest["anomalies"]:
        if a["provider"] == "whalet" and a["check_name"] == "money_unit_mismatch":
            assert a["entity_type"] == "money" and a["account_id"] in client.cred["user_ids"]
            assert int(a["difference"]) == int(a["actual"]) - int(a["expected"]) != 0
        elif a["provider"] == "whalet":
            assert a["entity_type"] == "platform" and a["account_id"] == client.cred["partner_id"]
            assert Decimal(a["difference"]) == Decimal(a["actual"]) - Decimal(a["expected"]) != 0


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("busy_5000", 200, "INTERNAL_ERROR"),
        ("throttled_1003", 200, "TOO_MANY_REQUESTS"),
        ("rate_limited_429", 429, None),
        ("server_error_5xx", None, None),
        ("truncated", 200, None),
        ("page_shift", 200, "SUCCESS"),
    ],
)
def test_faults(clean_world: World, kind: str, status: int | None, code: str | None) -> None:
    app = WhaletApp(clean_world, FaultConfig(rates={kind: 1.0}, retry_after_seconds=0))
    client = WhaletClient(app)
    try:
        body = {"clientId": client.cred["client_id"], "secretKey": client.cred["secret_key"]}
        response = client.post("/v1/auth/token", json=body, headers=client.headers())
    finally:
        client.close()
    if status is None:
        assert response.status_code in (500, 502, 503)
    else:
        assert response.status_code == status
    if kind == "truncated":
        with pytest.raises(ValueError):
            json.loads(response.text)
    elif code == "SUCCESS":
        # Nothing is paged, so a page shift never happens.
        assert response.json()["code"] == "SUCCESS" and not app.faults.counts
    elif code is not None:
        assert response.json()["code"] == code
