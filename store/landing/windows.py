"""Day windows fetched concurrently and landed whole, one file per day.

A day's file holds every account's window of that day, so it is written once the last of
them has been fetched, and never before: the (day, account) windows of a range are fetched
on up to `workers` threads (the provider's limiter keeps the requests within its limits),
and the calling thread writes each day as it completes and reports it. Windows are started
in day order and at most twice `workers` are fetched ahead, so a range holds a few days in
memory, not all of them. When a window fails, no more are started; the days already whole
are written, the failure is raised, and no day it belongs to is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import date
from typing import TypeVar

from store.landing.common import Landed

A = TypeVar("A")
W = TypeVar("W")


def land_days(
    days: Sequence[date],
    accounts: Sequence[A],
    fetch: Callable[[date, A], W],
    write: Callable[[date, list[W]], Landed],
    workers: int,
    landed: Callable[[date, Landed], None] | None = None,
) -> Landed:
    """`fetch(day, account)` for every day and account; `write(day, windows)` with a day's
    windows in the accounts' order once all are fetched, then `landed(day, what)`."""
    total = Landed()
    if not accounts:
        # Nobody to fetch for: each day lands empty, as the provider would have answered.
        for day in days:
            total.add(write(day, []))
        return total
    jobs = iter([(day, i) for day in days for i in range(len(accounts))])
    fetched: dict[date, dict[int, W]] = {}
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="recon-window")
    running: dict[Future[W], tuple[date, int]] = {}
    try:
        while True:
            while failure is None and len(running) < 2 * max(1, workers):
                job = next(jobs, None)
                if job is None:
                    break
                running[pool.submit(fetch, job[0], accounts[job[1]])] = job
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                day, i = running.pop(future)
                try:
                    fetched.setdefault(day, {})[i] = future.result()
                except Exception as exc:  # raised below, once the running ones end
                    failure = failure or exc
                    continue
                if len(fetched[day]) == len(accounts):
                    windows = fetched.pop(day)
                    what = write(day, [windows[k] for k in range(len(accounts))])
                    total.add(what)
                    if landed is not None:
                        landed(day, what)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        raise failure
    return total
