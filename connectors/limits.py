"""How hard one provider is pushed: requests in flight, requests per second, and its pauses.

Every request of a `JsonHttpClient` takes a slot of its provider's `Limiter` for as long as
it is on the wire: at most `max_in_flight` at once, started no faster than
`requests_per_second` (a token bucket without bursts), and none while the provider has said
to wait (`Retry-After` on a 429 pauses every request to it, not only the one that got it).
Clients of the same provider built in one process share its limiter (`shared_limiter`), so
the limits hold for all the requests of a run however many clients and threads make them.

`each` runs a function over items on up to `workers` threads: how windows and snapshot reads
of different accounts and days are fetched at once, the limiter keeping them within limits.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar


class RateBudget:
    """Thread-safe token bucket: at most `requests_per_second` on average, and no bursts.

    The bucket holds one token: after a quiet spell, requests start again one interval apart
    rather than all at once, so no one-second span ever sees more than the rate plus one
    (a provider counting per second would answer a burst with 429s).
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = requests_per_second
        self._burst = 1.0
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self._burst
        self._last = clock()

    def acquire(self) -> None:
        if self._rate <= 0:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            # Reserve the token now (the balance may go negative) and sleep outside the lock,
            # so concurrent callers queue up behind each other instead of behind a held lock.
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


class Limiter:
    """One provider's limits, shared by every request made to it (module doc)."""

    def __init__(
        self,
        max_in_flight: int,
        requests_per_second: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative (0: no limit)")
        self.max_in_flight = max_in_flight
        self.requests_per_second = requests_per_second
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._budget = RateBudget(requests_per_second, sleep=sleep, clock=clock)
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at = 0.0

    def pause(self, seconds: float) -> float:
        """No request starts for `seconds` from now (the provider said so); returns when
        requests may start again."""
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)
            return self._resume_at

    @contextmanager
    def slot(self, waited_until: float = 0.0) -> Iterator[None]:
        """Hold one request's place: after any pause (one the caller has already waited
        out itself, up to `waited_until`, is not waited for again), within the requests in
        flight and the rate."""
        with self._slots:
            # Checked once the slot is ours: a request that queued for a slot before the
            # pause began must not start during it.
            with self._lock:
                resume_at = self._resume_at
            if resume_at > waited_until:
                wait = resume_at - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._budget.acquire()
            yield


# (base URL, in flight, rate) -> the limiter every client with those settings uses. Weak:
# a limiter lives as long as some client holds it, and no longer.
_SHARED: weakref.WeakValueDictionary[tuple[str, int, float], Limiter] = (
    weakref.WeakValueDictionary()
)
_SHARED_LOCK = threading.Lock()


def shared_limiter(provider: str, max_in_flight: int, requests_per_second: float) -> Limiter:
    """The limiter of one provider (its base URL) in this process, for these limits."""
    key = (provider, max_in_flight, requests_per_second)
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = Limiter(max_in_flight, requests_per_second)
            _SHARED[key] = limiter
        return limiter


T = TypeVar("T")
R = TypeVar("R")


def each(function: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`function` of every item, on up to `workers` threads, results in the items' order.

    The first failure is raised once the calls already running have ended; calls not yet
    started are not made.
    """
    jobs: Sequence[T] = list(items)
    if workers <= 1 or len(jobs) <= 1:
        return [function(item) for item in jobs]
    with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="recon-fetch") as pool:
        futures = [pool.submit(function, item) for item in jobs]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()
