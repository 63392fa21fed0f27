"""Transport faults occur at their configured rates and never change the rows eventually served."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import FAULT_KINDS, FaultConfig, SandboxApp, World
from sandbox.serve import serving
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
