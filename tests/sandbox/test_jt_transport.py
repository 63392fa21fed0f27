"""JT transport: signatures over the exact `param` bytes, the timestamp window, the IP allow
list, parameter errors and transport faults, checked in the provider's order."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandbox import FaultConfig, JtApp, World, generate_merchant_key
from tests.support.provider_clients import BALANCE, RECORDS, JtClient, now_ms, sign

WINDOW = {"startTime": "2026-11-10 00:00:00", "endTime": "2026-11-11 00:00:00"}


def envelope(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_correctly_signed_request_succeeds(jt: JtClient) -> None:
    body = envelope(jt.post(BALANCE, json=jt.body({})))
    assert body["code"] == 10000 and body["message"] == "Success"
    assert body["data"]["total"] == jt.app.world.cfg.jt.users and body["data"]["current"] == 1


def test_param_reserialised_after_signing_fails_the_signature(jt: JtClient) -> None:
    body = jt.body({"page": 1, "size": 5})
    # Same JSON value, other bytes: a client that re-encodes param after signing.
    body["param"] = json.dumps(json.loads(body["param"]), indent=1)
    assert envelope(jt.post(BALANCE, json=body)) == {"code": 21001, "message": "sign verify failed"}


@pytest.mark.parametrize("breakage", ["app_id", "other_key", "not_base64", "no_sign", "no_param"])
def test_anything_but_the_merchant_signature_fails(jt: JtClient, breakage: str) -> None:
    body = jt.body({})
    if breakage == "app_id":
        body["appId"] = "0" * 32
    elif breakage == "other_key":
        body["sign"] = sign(generate_merchant_key()[0], body["param"])
    elif breakage == "not_base64":
        body["sign"] = "not base64!"
    elif breakage == "no_sign":
        del body["sign"]
    else:
        del body["param"]
    assert envelope(jt.post(BALANCE, json=body))["code"] == 21001


@pytest.mark.parametrize(
    ("offset_ms", "code"),
    [(-6 * 60_000, 21009), (6 * 60_000, 21009), (-4 * 60_000, 10000), (4 * 60_000, 10000)],
)
def test_timestamp_must_be_within_five_minutes(jt: JtClient, offset_ms: int, code: int) -> None:
    param = json.dumps({"timestamp": now_ms() + offset_ms})
    body = {"appId": jt.app_id, "param": param, "sign": sign(jt.private_pem, param)}
    result = envelope(jt.post(BALANCE, json=body))
    assert result["code"] == code
    if code == 21009:
        assert result == {"code": 21009, "message": "timestamp expired"}


@pytest.mark.parametrize("param", ['{"size": 5}', '{"timestamp": "1715595802000"}', "[1]", "{"])
def test_param_without_a_timestamp_is_expired(jt: JtClient, param: str) -> None:
    body = {"appId": jt.app_id, "param": param, "sign": sign(jt.private_pem, param)}
    assert envelope(jt.post(BALANCE, json=body))["code"] == 21009


def test_timestamp_is_checked_against_the_injected_clock(
    clean_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    app = JtApp(clean_world, merchant_key[1], clock=lambda: 1_715_595_802.0)
    client = JtClient(app, merchant_key[0])
    try:
        param = '{"timestamp":1715595802000}'
        body = {"appId": client.app_id, "param": param, "sign": sign(client.private_pem, param)}
        assert envelope(client.post(BALANCE, json=body))["code"] == 10000
        assert client.call(BALANCE)["code"] == 21009  # stamped with the real time
    finally:
        client.close()


def test_ip_allow_list_comes_first(clean_world: World, merchant_key: tuple[bytes, bytes]) -> None:
    app = JtApp(clean_world, merchant_key[1], allowed_ips=["10.0.0.8"])
    outside = JtClient(app, merchant_key[0], client=("10.0.0.9", 5000))
    inside = JtClient(app, merchant_key[0], client=("10.0.0.8", 5000))
    try:
        forbidden = {"code": 1002, "message": "merchant white ip forbidden"}
        assert outside.call(BALANCE) == forbidden
        assert envelope(outside.post(BALANCE, json={"appId": "x"})) == forbidden  # before sign
        assert inside.call(BALANCE)["code"] == 10000
    finally:
        outside.close()
        inside.close()


@pytest.mark.parametrize(
    ("path", "param", "needle"),
    [
        (BALANCE, {"size": 10_001}, "size"),
        (BALANCE, {"page": 0}, "page"),
        (BALANCE, {"size": "15"}, "size"),
        (BALANCE, {"mchUuidList": "JT1"}, "mchUuidList"),
        (BALANCE, {"mchUuidList": ["JT1"] * 5001}, "mchUuidList"),
        (BALANCE, {"KYCStatus": ["Done"]}, "KYCStatus"),
        (RECORDS, {}, "startTime"),
        (RECORDS, {"startTime": "2026-11-10 00:00:00"}, "endTime"),
        (RECORDS, {**WINDOW, "startTime": "2026-11-10"}, "startTime"),
        (RECORDS, {"startTime": "2026-10-01 00:00:00", "endTime": "2026-11-02 00:00:00"}, "31"),
        (RECORDS, {**WINDOW, "endTime": "2026-11-10 00:00:00"}, "before"),
        (RECORDS, {**WINDOW, "mchUuid": 7}, "mchUuid"),
    ],
)
def test_bad_parameters_get_21000(jt: JtClient, path: str, param: Any, needle: str) -> None:
    result = jt.call(path, **param)
    assert result["code"] == 21000 and "data" not in result
    assert result["message"].startswith("invalid parameter: ") and needle in result["message"]


def test_a_31_day_window_is_accepted(jt: JtClient) -> None:
    window = {"startTime": "2026-10-12 00:00:00", "endTime": "2026-11-12 00:00:00"}
    assert jt.data(RECORDS, **window)["total"] > 0


def test_unknown_paths_are_404(jt: JtClient) -> None:
    assert jt.post("/open-api/jt/wallet/nothing", json=jt.body({})).status_code == 404


def classify(response: httpx.Response) -> str | None:
    if response.status_code == 429:
        assert response.headers["retry-after"] == "0"
        return "429"
    if response.status_code == 503 and b"Unavailable" in response.content:
        return "503"
    if response.status_code in (500, 502, 503):
        return "5xx"
    try:
        body = json.loads(response.text)
    except ValueError:
        return "truncated"
    assert body["code"] == 10000, body
    return None


@pytest.mark.parametrize(
    ("kind", "seen"),
    [
        ("rate_limited_429", "429"),
        ("throttled_1003", "429"),
        ("busy_5000", "503"),
        ("server_error_5xx", "5xx"),
        ("truncated", "truncated"),
    ],
)
def test_faults_reach_the_client_as_http(
    clean_world: World, merchant_key: tuple[bytes, bytes], kind: str, seen: str
) -> None:
    app = JtApp(clean_world, merchant_key[1], FaultConfig(rates={kind: 1.0}, retry_after_seconds=0))
    client = JtClient(app, merchant_key[0])
    try:
        assert classify(client.post(RECORDS, json=client.body(WINDOW))) == seen
        assert app.faults.counts[kind] == 1
    finally:
        client.close()


def test_page_shift_moves_page_two_down_one_row(
    clean_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    shifted = JtApp(clean_world, merchant_key[1], FaultConfig(rates={"page_shift": 1.0}))
    client = JtClient(shifted, merchant_key[0])
    try:
        page1 = client.data(RECORDS, page=1, size=20, **WINDOW)
        page2 = client.data(RECORDS, page=2, size=20, **WINDOW)
        assert shifted.faults.counts == {"page_shift": 1}  # page 1 is never shifted
        assert page2["list"][0] == page1["list"][-1]
        assert page2["total"] == page1["total"] + 1
    finally:
        client.close()


def test_slow_responses_still_answer(clean_world: World, merchant_key: tuple[bytes, bytes]) -> None:
    app = JtApp(clean_world, merchant_key[1], FaultConfig(rates={"slow": 1.0}, slow_seconds=0.0))
    client = JtClient(app, merchant_key[0])
    try:
        assert client.data(RECORDS, **WINDOW)["total"] > 0
        assert app.faults.counts == {"slow": 1}
    finally:
        client.close()
