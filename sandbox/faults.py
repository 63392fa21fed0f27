"""Transport faults: decides, per request, whether and how serving it goes wrong.

Draws come from one seeded stream in request order, so the same seed and the same sequence
of requests meet the same faults, and memory stays constant however many requests arrive.
A retried request draws again, as it would meet a fresh fault (or none) at a real provider.
"""

from __future__ import annotations

import random
from collections import Counter

from sandbox.config import FAULT_KINDS, FaultConfig

_EXCLUSIVE = tuple(k for k in FAULT_KINDS if k != "page_shift")


class FaultPlan:
    def __init__(self, cfg: FaultConfig, seed: int) -> None:
        self.cfg = cfg
        self._rng = random.Random(f"{seed}:faults")
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.page_requests = 0

    def draw(self, pageable: bool) -> tuple[str | None, float]:
        """The fault for the next request (or None) and a spare uniform draw for its details.

        `pageable` marks a list request for page 2 or later, the only kind a page shift hits.
        """
        u_fault, u_shift, u_detail = self._rng.random(), self._rng.random(), self._rng.random()
        self.requests += 1
        acc = 0.0
        for kind in _EXCLUSIVE:
            acc += self.cfg.rates.get(kind, 0.0)
            if u_fault < acc:
                self.counts[kind] += 1
                return kind, u_detail
        if pageable:
            self.page_requests += 1
            if u_shift < self.cfg.rates.get("page_shift", 0.0):
                self.counts["page_shift"] += 1
                return "page_shift", u_detail
        return None, u_detail
