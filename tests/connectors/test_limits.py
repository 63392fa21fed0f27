"""A provider's limits, counted where they matter: on the server, over real loopback HTTP.

The sandbox is served by uvicorn behind `tests.support.counting.Counting`, which records when
each request arrived and how many it held at once; the client is the pipeline's own
(`OpenApiClient` over `JsonHttpClient`) with a `Limiter`, driven by more threads than the
limits allow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from connectors.http import HttpSettings, JsonHttpClient
from connectors.limits import Limiter, each, shared_limiter
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE
from sandbox import SandboxApp, WorldConfig, build_world
from sandbox.serve import serving
from tests.support.counting import Counting

WORLD = build_world(WorldConfig(seed=5, customers=2, days=2, entries_per_day=20))
CREDS = [Credentials(c["customer_id"], c["app_id"], c["key"]) for c in WORLD.credentials()]
CURRENCIES = list(WORLD.cfg.currencies)


@contextmanager
def served(counting: Counting, limiter: Limiter) -> Iterator[OpenApiClient]:
    with serving(counting) as server:
        settings = HttpSettings(max_attempts=3, backoff_base_seconds=0.01)
        http = JsonHttpClient(server.base_url, settings, PROFILE.codes, limiter=limiter)
        with http:
            yield OpenApiClient(http, credentials=CREDS)


def test_never_more_requests_in_flight_than_the_limit() -> None:
    counting = Counting(SandboxApp(WORLD), hold_seconds=0.1)
    with served(counting, Limiter(3, 0)) as client:
        # Twelve rate pairs per customer, asked for by 8 threads at once.
        each(lambda creds: client.exchange_rates(creds, CURRENCIES), CREDS * 4, 8)
    assert len(counting.arrivals) == 8 * 12
    assert counting.max_in_flight == 3


class Recording(Limiter):
    """The limiter, noting when it lets each request start."""

    def __init__(self, max_in_flight: int, requests_per_second: float) -> None:
        super().__init__(max_in_flight, requests_per_second)
        self.started: list[float] = []

    @contextmanager
    def slot(self, waited_until: float = 0.0) -> Iterator[None]:
        with super().slot(waited_until):
            self.started.append(time.monotonic())
            yield


def test_never_more_requests_per_second_than_the_limit() -> None:
    counting = Counting(SandboxApp(WORLD))
    rate = 20.0
    limiter = Recording(8, rate)
    with served(counting, limiter) as client:
        each(lambda creds: client.exchange_rates(creds, CURRENCIES), CREDS * 3, 8)
    starts = sorted(limiter.started)
    assert len(starts) == len(counting.arrivals) == 6 * 12
    # In any one second, at most the rate plus the one request a quiet bucket lets start.
    # Counted where the limiter lets requests go: on a loaded machine the server may take
    # requests sent evenly a few at a time, which is the network's doing, not the client's.
    for i, first in enumerate(starts):
        within = [t for t in starts[i:] if t < first + 1.0]
        assert len(within) <= rate + 1, (i, len(within))
    # The server saw them over at least as long: the rate holds on the wire on average.
    arrivals = sorted(counting.arrivals)
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 2) / rate - 0.1


def test_retry_after_pauses_every_request_to_the_provider() -> None:
    # The first request is answered 429 with Retry-After: 1; the other threads' requests
    # must wait out that second too, not only the one retried.
    counting = Counting(SandboxApp(WORLD), hold_seconds=0.05, too_many_first=1, retry_after=1)
    with served(counting, Limiter(4, 0)) as client:
        rates = each(lambda creds: client.exchange_rates(creds, CURRENCIES), CREDS, 2)
        assert client.http.stats["retry:http_429"] == 1
    assert [len(r) for r in rates] == [12, 12]
    (refused_at,) = counting.answered_429
    # Requests already on the wire when the 429 was sent arrive at once; none starts after.
    started_in_pause = [t for t in counting.arrivals if refused_at + 0.02 < t < refused_at + 0.95]
    assert started_in_pause == []
    assert max(counting.arrivals) > refused_at + 0.95


def test_clients_of_one_provider_share_one_limiter() -> None:
    first = shared_limiter("http://127.0.0.1:1/v1", 3, 5.0)
    assert shared_limiter("http://127.0.0.1:1/v1", 3, 5.0) is first
    assert shared_limiter("http://127.0.0.1:2/v1", 3, 5.0) is not first
