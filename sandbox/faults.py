"""Faults: decides, per request, whether and how serving it goes wrong.

Draws come from one seeded stream in request order, so the same seed and the same sequence
of requests meet the same faults, and memory stays constant however many requests arrive.
A retried request draws again, as it would meet a fresh fault (or none) at a real provider.
Response faults (`malform`) bend a successful answer's shape; transport faults are the apps'.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sandbox.config import FAULT_KINDS, RESPONSE_FAULT_KINDS, FaultConfig
from sandbox.render import dumps

_EXCLUSIVE = tuple(k for k in FAULT_KINDS + RESPONSE_FAULT_KINDS if k != "page_shift")
UNKNOWN_FIELD = "settlement_batch"  # the field `unknown_field` adds to every row


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
                if kind not in RESPONSE_FAULT_KINDS:  # those count where they apply
                    self.counts[kind] += 1
                return kind, u_detail
        if pageable:
            self.page_requests += 1
            if u_shift < self.cfg.rates.get("page_shift", 0.0):
                self.counts["page_shift"] += 1
                return "page_shift", u_detail
        return None, u_detail

    def malform(self, kind: str | None, data: Any, list_key: str | None) -> Any:
        """`data` as the response fault `kind` serves it (a copy), counted; `data` itself when
        `kind` is no response fault or does not apply to it (`list_key`: where its rows are,
        None for an answer that is no list)."""
        if kind not in RESPONSE_FAULT_KINDS:
            return data
        bent = _malformed(kind, data, list_key)
        if bent is not _UNCHANGED:
            self.counts[kind] += 1
            return bent
        return data


_UNCHANGED = object()


def _malformed(kind: str, data: Any, list_key: str | None) -> Any:
    if kind == "data_list":
        return [data]
    if kind == "data_null":
        return None
    if not isinstance(data, dict) or list_key is None or list_key not in data:
        return _UNCHANGED
    rows, out = data[list_key], dict(data)
    if kind == "row_not_object" and rows:
        out[list_key] = [dumps(rows[0]), *rows[1:]]
    elif kind == "list_missing":
        del out[list_key]
    elif kind == "list_not_list":
        out[list_key] = {"rows": rows}
    elif kind == "total_missing" and "total" in out:
        del out["total"]
    elif kind == "total_not_number" and "total" in out:
        out["total"] = "many"
    elif kind == "unknown_field" and rows:
        out[list_key] = [{**r, UNKNOWN_FIELD: "B-0001"} for r in rows]
    else:
        return _UNCHANGED
    return out
