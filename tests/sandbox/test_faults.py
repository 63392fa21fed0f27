"""Transport faults occur at their configured rates and never change the rows eventually served."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import (
    FAULT_KINDS,
    RESPONSE_FAULT_KINDS,
    FaultConfig,
    JtApp,
    SandboxApp,
    WhaletApp,
    World,
)
from sandbox.faults import UNKNOWN_FIELD
from sandbox.serve import serving
from tests.support.provider_clients import JtClient, WhaletClient
from tests.support.sandbox_client import SandboxClient

TX = "/openApi/wallet/transactionList"


def classify(response: httpx.Response, previous_last: Any = None) -> str | None:
    """What fault (if any) a response shows, judged from the outside as a client would."""
    if response.status_code == 429:
        assert response.headers["retry-after"] == "0"
        return "rate_limited_429"
    if response.status_code in (500, 502, 503):
        return "server_error_5xx"
    try:
        envelope = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return "truncated"
    code = envelope["code"]
    if code in (5000, 1003):
        return {5000: "busy_5000", 1003: "throttled_1003"}[code]
    assert code == 0, envelope
    rows = envelope["data"]["transaction_list"]
    if previous_last is not None and rows and rows[0] == previous_last:
        return "page_shift"
    return None


def within(observed: int, n: int, rate: float) -> bool:
    sigma = math.sqrt(n * rate * (1 - rate))
    return abs(observed - n * rate) <= 4 * sigma + 1


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k != "slow"])
def test_each_fault_occurs_at_its_configured_rate(clean_world: World, kind: str) -> None:
    rate, n = 0.2, 400
    app = SandboxApp(clean_world, FaultConfig(rates={kind: rate}, retry_after_seconds=0))
    client = SandboxClient(app)
    cred = clean_world.credentials()[0]
    # The last row of page 1 is what a one-row shift repeats at the top of page 2.
    page1 = SandboxClient(SandboxApp(clean_world)).data(TX, cred, page_no=1, page_size=20)
    last = page1["transaction_list"][-1]
    seen = [
        classify(client.raw(TX, {**cred, "page_no": 2, "page_size": 20}), last) for _ in range(n)
    ]
    client.close()
    assert set(seen) <= {kind, None}
    assert within(seen.count(kind), n, rate), (kind, seen.count(kind))
    assert app.faults.counts[kind] == seen.count(kind)


def test_slow_responses_outlast_a_client_timeout(clean_world: World) -> None:
    rate, n = 0.3, 40
    app = SandboxApp(clean_world, FaultConfig(rates={"slow": rate}, slow_seconds=1.0))
    cred = clean_world.credentials()[0]
    timeouts = 0
    with serving(app) as server, httpx.Client(base_url=server.base_url, timeout=0.25) as http:
        for _ in range(n):
            try:
                http.post(TX, json={**cred, "page_no": 1, "page_size": 5})
            except httpx.TimeoutException:
                timeouts += 1
    assert timeouts == app.faults.counts["slow"]
    assert within(timeouts, n, rate)


def fetch_window(client: SandboxClient, cred: dict[str, Any], page_size: int) -> list[Any]:
    """A minimal careful pager: retry transient failures, re-fetch the window if it moved."""
    for _ in range(50):
        rows: list[Any] = []
        totals = set()
        page = 1
        while True:
            for _ in range(50):
                response = client.raw(TX, {**cred, "page_no": page, "page_size": page_size})
                if classify(response) is None:
                    break
            data = json.loads(response.text, parse_float=Decimal)["data"]
            totals.add(data["total"])
            rows.extend(data["transaction_list"])
            if not data["transaction_list"] or page * page_size >= data["total"]:
                break
            page += 1
        keys = {(r["transaction_id"], r["in_out_type"], r["currency"]) for r in rows}
        if len(totals) == 1 and len(keys) == len(rows) == totals.pop():
            return rows
    raise AssertionError("window never came back whole")


def test_faults_never_change_the_rows_eventually_served(clean_world: World) -> None:
    cred = clean_world.credentials()[0]
    truth = SandboxClient(SandboxApp(clean_world)).list_all(TX, "transaction_list", cred)
    faulty = SandboxApp(
        clean_world, FaultConfig.every_fault(0.08, retry_after_seconds=0, slow_seconds=0.0)
    )
    client = SandboxClient(faulty)
    rows = fetch_window(client, cred, page_size=10)
    client.close()
    assert set(faulty.faults.counts) == set(FAULT_KINDS)
    assert rows == truth


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultConfig(rates={"gremlins": 0.1})
    with pytest.raises(ValueError, match="add up to at most 1"):
        FaultConfig(rates={"busy_5000": 0.6, "truncated": 0.6})


EXPECTED_SHAPES: dict[str, Any] = {
    "data_list": lambda d, good: isinstance(d, list) and d == [good],
    "data_null": lambda d, good: d is None,
    "row_not_object": lambda d, good: (
        isinstance(d["transaction_list"][0], str)
        and json.loads(d["transaction_list"][0], parse_float=Decimal, parse_int=Decimal)
        == good["transaction_list"][0]
        and d["transaction_list"][1:] == good["transaction_list"][1:]
    ),
    "list_missing": lambda d, good: "transaction_list" not in d and d["total"] == good["total"],
    "list_not_list": lambda d, good: d["transaction_list"] == {"rows": good["transaction_list"]},
    "total_missing": lambda d, good: "total" not in d and d["transaction_list"],
    "total_not_number": lambda d, good: d["total"] == "many",
    "unknown_field": lambda d, good: (
        d["transaction_list"] == [{**r, UNKNOWN_FIELD: "B-0001"} for r in good["transaction_list"]]
    ),
}


@pytest.mark.parametrize("kind", RESPONSE_FAULT_KINDS)
def test_each_response_fault_bends_a_list_answer_as_documented(
    clean_world: World, kind: str
) -> None:
    cred = clean_world.credentials()[0]
    params = {**cred, "page_no": 1, "page_size": 5}
    good = SandboxClient(SandboxApp(clean_world, FaultConfig())).data(TX, cred, **params)
    app = SandboxApp(clean_world, FaultConfig(rates={kind: 0.5}))
    client = SandboxClient(app)
    answers = [client.call(TX, cred, **params) for _ in range(60)]
    client.close()
    assert all(a["code"] == 0 for a in answers)  # a success, of the wrong shape
    bent = [a["data"] for a in answers if a["data"] != good]
    assert bent and all(EXPECTED_SHAPES[kind](d, good) for d in bent), bent[:1]
    assert app.faults.counts == {kind: len(bent)}


def test_response_faults_spare_what_they_do_not_apply_to(
    clean_world: World, merchant_key: tuple[bytes, bytes]
) -> None:
    cred = clean_world.credentials()[0]
    # A detail answer has no total; the Whalet token exchange is never bent.
    app = SandboxApp(clean_world, FaultConfig(rates={"total_missing": 1.0}))
    client = SandboxClient(app)
    rate = client.data("/openApi/wallet/exchangeRate", cred, from_currency="USD", to_currency="EUR")
    client.close()
    assert rate["rate"] and app.faults.counts == {}
    whalet = WhaletClient(WhaletApp(clean_world, FaultConfig(rates={"data_null": 1.0})))
    issued = whalet.issue()
    token = issued["data"]["token"]
    balance = whalet.call("/v1/wallet/queryCurrencyBalance", token, userId="x", fundSource="B2C")
    whalet.close()
    assert issued["code"] == "SUCCESS" and balance["code"] == "PARAMETER_ERROR"
    jt = JtClient(
        JtApp(clean_world, merchant_key[1], FaultConfig(rates={"list_missing": 1.0})),
        merchant_key[0],
    )
    data = jt.call("/open-api/jt/wallet/balance", page=1, size=5)["data"]
    jt.close()
    assert "list" not in data and data["total"] == clean_world.cfg.jt.users
