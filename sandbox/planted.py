"""A planted anomaly, and what every planter shares: its draws, its bounds, the targets taken."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sandbox.config import WorldConfig
from sandbox.model import Card, Customer, Entry, Order, Wallet

MARGIN = 2 * 3600  # keep targets clear of the world's start and of the grace period at its end


@dataclass
class Planted:
    """One planted anomaly; the manifest row is derived from it once balances are final."""

    check_name: str
    customer: Customer
    entity_type: str
    entity_id: str
    currency: str
    entries: list[Entry] = field(default_factory=list)
    wallet: Wallet | None = None
    order: Order | None = None
    card: Card | None = None
    info: dict[str, Any] = field(default_factory=dict)


class PlanterBase:
    def __init__(self, cfg: WorldConfig, customers: list[Customer], start: int, end: int) -> None:
        self.rng = random.Random(f"{cfg.seed}:anomalies")
        self.cfg = cfg
        self.customers = customers
        self.lo, self.hi = start + MARGIN, end - MARGIN
        self.used: set[int] = set()
        self.planted: list[Planted] = []

    def pick(self, kind: str, candidates: list[Any], n: int) -> list[Any]:
        if len(candidates) < n:
            raise ValueError(
                f"cannot plant {n} x {kind}: only {len(candidates)} eligible targets; "
                "raise entries_per_day or days, or plant fewer"
            )
        return self.rng.sample(candidates, n)

    def _free(self, *objs: object) -> bool:
        return all(id(o) not in self.used for o in objs)

    def _take(self, *objs: object) -> None:
        self.used.update(id(o) for o in objs)
