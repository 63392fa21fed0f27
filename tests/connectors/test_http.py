"""Tests for the shared HTTP layer: retries, fail-fast codes, Decimal parsing, budget, paging."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.http import (
    BusinessCodes,
    HttpSettings,
    JsonHttpClient,
    ProviderError,
    RetriesExhausted,
)
from connectors.limits import RateBudget
from connectors.paging import Page, collect_pages

KEY = "ae9ae3f5ad284ef4836de18aa3d41c47"
BODY = {"customerNo": "10001001", "apiKey": KEY, "pageNo": 1}
CONTEXT = "OPEN-API customer 10001001"
PATH = "/openApi/wallet/walletList"
BASE_URL = "http://127.0.0.1:8765/v1"
CODES = BusinessCodes(
    ok=0,
    retryable=frozenset({1003, 5000}),
    fatal={1001: "bad credentials", 1002: "bad parameter"},
)
OK_DATA = {"list": [{"walletId": "W1"}], "total": 1}

Step = httpx.Response | Exception


def ok(data: Any = OK_DATA) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "message": "success", "data": data})


def envelope(code: int, message: str) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "message": message, "data": None})


class Script:
    """A MockTransport handler that replays a fixed sequence of responses / exceptions."""

    def __init__(self, steps: list[Step] | Callable[[], Iterator[Step]]) -> None:
        self._steps = iter(steps) if isinstance(steps, list) else steps()
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = next(self._steps)
        if isinstance(step, Exception):
            raise step
        return step


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    script: Script,
    sleeps: Sleeps,
    settings: HttpSettings | None = None,
    seed: int = 7,
) -> JsonHttpClient:
    return JsonHttpClient(
        BASE_URL,
        settings or HttpSettings(requests_per_second=0),
        CODES,
        transport=httpx.MockTransport(script),
        sleep=sleeps,
        rng=random.Random(seed),
    )


def test_joins_base_url_and_path_and_sends_json_body() -> None:
    script = Script([ok()])
    with make_client(script, Sleeps()) as client:
        assert client.post(PATH, BODY, context=CONTEXT) == OK_DATA
    (request,) = script.requests
    assert str(request.url) == "http://127.0.0.1:8765/v1/openApi/wallet/walletList"
    assert request.method == "POST"
    assert json.loads(request.content) == BODY


def test_429_waits_exactly_retry_after() -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "2"}), ok()])
    sleeps = Sleeps()
    with make_client(script, sleeps) as client:
        assert client.post(PATH, BODY, context=CONTEXT) == OK_DATA
        assert client.stats["retry:http_429"] == 1
        assert client.stats["requests"] == 2
    assert sleeps == [2.0]


def test_429_retry_after_is_capped_and_float_accepted() -> None:
    script = Script(
        [
            httpx.Response(429, headers={"Retry-After": "1.5"}),
            httpx.Response(429, headers={"Retry-After": "9999"}),
            ok(),
        ]
    )
    sleeps = Sleeps()
    settings = HttpSettings(requests_per_second=0, retry_after_max_seconds=60.0)
    with make_client(script, sleeps, settings) as client:
        client.post(PATH, BODY, context=CONTEXT)
    assert sleeps == [1.5, 60.0]


def test_429_http_date_retry_after_is_honoured() -> None:
    script = Script(
        [httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), ok()]
    )
    sleeps = Sleeps()
    with make_client(script, sleeps) as client:
        client.post(PATH, BODY, context=CONTEXT)
    # A far-future date is capped rather than ignored.
    assert sleeps == [120.0]


def test_429_without_usable_retry_after_uses_backoff() -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "soon"}), ok()])
    sleeps = Sleeps()
    with make_client(script, sleeps) as client:
        client.post(PATH, BODY, context=CONTEXT)
    assert len(sleeps) == 1
    assert 0.0 <= sleeps[0] <= 0.5


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (httpx.Response(503), "retry:http_503"),
        (httpx.Response(502), "retry:http_502"),
        (httpx.Response(500), "retry:http_500"),
        (
            httpx.Response(200, text='{"code": 0, "message": "success", "data": {"li'),
            "retry:bad_json",
        ),
        (httpx.Response(200, json=[1, 2]), "retry:bad_json"),
        (envelope(5000, "system busy"), "retry:code_5000"),
        (envelope(1003, "too many requests"), "retry:code_1003"),
        (httpx.ReadTimeout("read timed out"), "retry:timeout"),
        (httpx.ConnectError("connection refused"), "retry:transport"),
    ],
)
def test_transient_failure_is_retried_then_succeeds(first: Step, reason: str) -> None:
    script = Script([first, ok()])
    sleeps = Sleeps()
    with make_client(script, sleeps) as client:
        assert client.post(PATH, BODY, context=CONTEXT) == OK_DATA
        assert client.stats[reason] == 1
        assert client.stats["requests"] == 2
    assert len(script.requests) == 2
    assert len(sleeps) == 1


def test_bad_credentials_fail_fast_without_leaking_key() -> None:
    script = Script([envelope(1001, "invalid apiKey"), ok()])
    with make_client(script, Sleeps()) as client, pytest.raises(ProviderError) as info:
        client.post(PATH, BODY, context=CONTEXT)
    assert len(script.requests) == 1
    text = str(info.value)
    assert "customer 10001001" in text
    assert "bad credentials" in text
    assert "1001" in text
    assert KEY not in text


def test_bad_parameter_fail_fast_shows_provider_message() -> None:
    script = Script([envelope(1002, "pageSize must be <= 100"), ok()])
    with make_client(script, Sleeps()) as client, pytest.raises(ProviderError) as info:
        client.post(PATH, BODY, context=CONTEXT)
    assert len(script.requests) == 1
    assert str(info.value) == (f"{CONTEXT}: bad parameter (code 1002): pageSize must be <= 100")
    assert KEY not in str(info.value)


def test_unknown_code_fails_fast_naming_the_code() -> None:
    script = Script([envelope(4242, "mystery"), ok()])
    with make_client(script, Sleeps()) as client, pytest.raises(ProviderError, match="4242"):
        client.post(PATH, BODY, context=CONTEXT)
    assert len(script.requests) == 1


def test_http_404_fails_fast() -> None:
    script = Script([httpx.Response(404), ok()])
    with make_client(script, Sleeps()) as client, pytest.raises(ProviderError) as info:
        client.post(PATH, BODY, context=CONTEXT)
    assert len(script.requests) == 1
    assert str(info.value) == f"{CONTEXT}: HTTP 404 for POST {PATH}"


def test_always_503_exhausts_with_bounded_exponential_backoff() -> None:
    def forever() -> Iterator[Step]:
        while True:
            yield httpx.Response(503)

    script = Script(forever)
    sleeps = Sleeps()
    settings = HttpSettings(
        requests_per_second=0, max_attempts=6, backoff_base_seconds=0.5, backoff_max_seconds=4.0
    )
    with make_client(script, sleeps, settings, seed=1) as client:
        with pytest.raises(RetriesExhausted) as info:
            client.post(PATH, BODY, context=CONTEXT)
        assert client.stats["requests"] == 6
        assert client.stats["retry:http_503"] == 5
    assert len(script.requests) == 6
    caps = [0.5, 1.0, 2.0, 4.0, 4.0]
    assert len(sleeps) == len(caps)
    for delay, cap in zip(sleeps, caps, strict=True):
        assert 0.0 <= delay <= cap
    # Same seed, same draws: the delays are exactly full jitter over the growing cap.
    rng = random.Random(1)
    assert sleeps == [rng.uniform(0, cap) for cap in caps]
    text = str(info.value)
    assert CONTEXT in text
    assert PATH in text
    assert "6 attempts" in text
    assert "HTTP 503" in text
    assert KEY not in text


def test_money_is_parsed_as_decimal() -> None:
    raw = '{"code": 0, "message": "ok", "data": {"amount": 0.1, "rate": 7.12345678, "n": 3}}'
    script = Script([httpx.Response(200, text=raw)])
    with make_client(script, Sleeps()) as client:
        data = client.post(PATH, BODY, context=CONTEXT)
    assert type(data["amount"]) is Decimal
    assert type(data["rate"]) is Decimal
    assert data["amount"] == Decimal("0.1")
    assert data["rate"] == Decimal("7.12345678")
    assert type(data["n"]) is int


def test_logs_retries_without_leaking_key(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(
        [
            httpx.Response(503),
            envelope(5000, f"busy, echo {KEY}"),
            httpx.ReadTimeout(f"timeout for {KEY}"),
            ok(),
        ]
    )
    with caplog.at_level(logging.DEBUG), make_client(script, Sleeps()) as client:
        client.post(PATH, BODY, context=CONTEXT)
    warnings = [r for r in caplog.records if r.name == "recon.http"]
    assert len(warnings) == 3
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert warnings[0].getMessage().startswith(f"{CONTEXT}: POST {PATH}: HTTP 503; retry 1/5 in ")
    for record in caplog.records:
        assert KEY not in record.getMessage()
    assert KEY not in caplog.text


def test_rate_budget_paces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RateBudget(5, sleep=sleep, clock=lambda: now[0])
    for _ in range(10):
        budget.acquire()
    assert 1.0 <= sum(slept) <= 2.0
    assert 1.0 <= now[0] <= 2.0


def test_rate_budget_zero_is_unlimited() -> None:
    slept: list[float] = []
    budget = RateBudget(0, sleep=slept.append, clock=lambda: 0.0)
    for _ in range(1000):
        budget.acquire()
    assert slept == []


def test_client_spends_rate_budget_per_attempt() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    script = Script([ok() for _ in range(4)])
    client = JsonHttpClient(
        BASE_URL,
        HttpSettings(requests_per_second=1),
        CODES,
        transport=httpx.MockTransport(script),
        sleep=sleep,
        clock=lambda: now[0],
    )
    with client:
        for _ in range(4):
            client.post(PATH, BODY, context=CONTEXT)
    assert slept == [1.0, 1.0, 1.0]


def pager(pages: dict[int, Page]) -> tuple[Callable[[int], Page], list[int]]:
    asked: list[int] = []

    def fetch(page_no: int) -> Page:
        asked.append(page_no)
        return pages[page_no]

    return fetch, asked


def rows(start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": i} for i in range(start, start + count)]


def test_collect_pages_stops_on_total() -> None:
    fetch, asked = pager({1: Page(rows(0, 2), 4), 2: Page(rows(2, 2), 4), 3: Page(rows(4, 2), 4)})
    result = collect_pages(fetch, page_size=2)
    assert asked == [1, 2]
    assert result.rows == rows(0, 4)
    assert result.totals == [4, 4]
    assert result.pages == 2


def test_collect_pages_stops_on_short_page() -> None:
    fetch, asked = pager({1: Page(rows(0, 3), 100), 2: Page(rows(3, 1), 100)})
    result = collect_pages(fetch, page_size=3)
    assert asked == [1, 2]
    assert len(result.rows) == 4
    assert result.pages == 2


def test_collect_pages_stops_on_empty_page() -> None:
    fetch, asked = pager({1: Page(rows(0, 2), 10), 2: Page([], 10)})
    result = collect_pages(fetch, page_size=2)
    assert asked == [1, 2]
    assert result.rows == rows(0, 2)
    assert result.totals == [10, 10]
    assert result.pages == 2


def test_collect_pages_reports_each_pages_total() -> None:
    fetch, _ = pager({1: Page(rows(0, 2), 5), 2: Page(rows(2, 2), 6), 3: Page(rows(4, 2), 6)})
    result = collect_pages(fetch, page_size=2)
    assert result.totals == [5, 6, 6]
    assert len(set(result.totals)) > 1
    assert result.pages == 3
    assert len(result.rows) == 6
