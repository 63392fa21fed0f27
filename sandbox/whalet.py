"""The Whalet world (providers.md §3): users' balances per fund source and currency.

Balances are integer cents, constant over the world's days (Whalet serves only current
balances, and a constant state keeps the manifest true at any clock). Each is served as a
Money object `{"amount", "cent", "centFactor": 100, "currency"}` whose `cent` equals
`amount x centFactor`, except where `money_unit_mismatch` is planted: there the served `cent`
is off while `amount` stays true. Where `whalet_platform_mismatch` is planted, the platform's
balance for one fund source and currency is off from its users' sum (amount and cent alike).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox import rates
from sandbox.config import WorldConfig
from sandbox.model import money

FUND_SOURCES = ("B2C", "B2B", "Acquiring")
MONEY_FIELDS = ("balance", "orderQuota", "rmbAmount", "pendingAmount", "freezeAmount")
CENT_FACTOR = 100
_PLANTABLE = ("balance", "pendingAmount", "orderQuota")

Cell = tuple[str, str, str]  # (userId, fundSource, currency)


@dataclass(frozen=True)
class WhaletPlanted:
    """A served `cent` off by `delta` for one Money field of one user's record."""

    user_id: str
    fund_source: str
    currency: str
    field: str
    delta: int


class WhaletWorld:
    """The Whalet side of a world: credentials and every (user, fund source, currency) record."""

    def __init__(self, cfg: WorldConfig, start: int) -> None:
        wcfg = cfg.whalet
        for ccy in (*wcfg.currencies, "CNY"):
            if not rates.supported(ccy):
                raise ValueError(f"the sandbox has no reference rate for currency {ccy}")
        rng = random.Random(f"{cfg.seed}:whalet")
        self.partner_id = f"P{rng.randrange(10**9, 10**10)}"
        self.client_id = f"{rng.getrandbits(64):016x}"
        self.secret_key = f"{rng.getrandbits(128):032x}"
        first = rng.randrange(10**11, 9 * 10**11)
        self.user_ids = [f"W{first + 7 * i:012d}" for i in range(wcfg.users)]
        self.currencies = wcfg.currencies
        self.token_ttl_seconds = wcfg.token_ttl_seconds
        series = tuple(dict.fromkeys((*wcfg.currencies, "CNY")))
        self.cents: dict[Cell, dict[str, int]] = {}
        for user in self.user_ids:
            for fund in FUND_SOURCES:
                for ccy in wcfg.currencies:
                    scale = rates.amount_scale(ccy)
                    balance = rng.randint(1_000, 5_000_000) * scale
                    to_cny = rates.reference_rate_e8(ccy, "CNY", start, series)
                    self.cents[(user, fund, ccy)] = {
                        "balance": balance,
                        "orderQuota": rng.randint(100, 50_000) * 100 * scale,
                        "rmbAmount": rates.convert_cents(balance, to_cny),
                        "pendingAmount": rng.choice((0, rng.randint(100, 100_000) * scale)),
                        "freezeAmount": rng.choice((0, 0, rng.randint(100, 50_000) * scale)),
                    }
        self.planted = self._plant(random.Random(f"{cfg.seed}:whalet:anomalies"), cfg)
        self._cent_delta = {
            (p.user_id, p.fund_source, p.currency, p.field): p for p in self.planted
        }
        # Drawn apart from the cents above, so adding this kind leaves those plantings as
        # they were: (fund source, currency) -> cents the platform's balance is off by.
        self.platform_delta = self._plant_platform(
            random.Random(f"{cfg.seed}:whalet:platform"), cfg
        )

    def _plant(self, rng: random.Random, cfg: WorldConfig) -> list[WhaletPlanted]:
        n = cfg.whalet.anomalies.get("money_unit_mismatch", 0)
        cands = [
            (*cell, name)
            for cell, values in self.cents.items()
            for name in _PLANTABLE
            if values[name] != 0
        ]
        if len(cands) < n:
            raise ValueError(
                f"cannot plant {n} x Whalet money_unit_mismatch: only {len(cands)} eligible "
                "targets; raise whalet.users or plant fewer"
            )
        out = []
        for user, fund, ccy, name in rng.sample(cands, n):
            delta = rng.choice((-1, 1)) * rng.randint(1, 99)
            out.append(WhaletPlanted(user, fund, ccy, name, delta))
        return out

    def _plant_platform(self, rng: random.Random, cfg: WorldConfig) -> dict[tuple[str, str], int]:
        n = cfg.whalet.anomalies.get("whalet_platform_mismatch", 0)
        cells = [(fund, ccy) for fund in FUND_SOURCES for ccy in self.currencies]
        if len(cells) < n:
            raise ValueError(
                f"cannot plant {n} x Whalet whalet_platform_mismatch: only {len(cells)} fund "
                "source and currency pairs; plant fewer"
            )
        return {
            cell: rng.choice((-1, 1)) * rng.randint(1, 100_000) * rates.amount_scale(cell[1])
            for cell in rng.sample(cells, n)
        }

    def users_balance(self, fund: str, currency: str) -> int:
        """The sum of the users' balance cents for one fund source and currency."""
        return sum(
            values["balance"]
            for (_, f, c), values in self.cents.items()
            if f == fund and c == currency
        )

    def credentials(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "client_id": self.client_id,
            "secret_key": self.secret_key,
            "user_ids": list(self.user_ids),
        }

    def user_records(self, user: str, fund: str, currency: str | None) -> list[dict[str, Any]]:
        """queryCurrencyBalance records, in the configured currency order."""
        return [
            self._record(ccy, self.cents[(user, fund, ccy)], (user, fund, ccy))
            for ccy in self.currencies
            if currency is None or ccy == currency
        ]

    def platform_records(self, fund: str | None) -> list[dict[str, Any]]:
        """queryPlatformBalance records: one per currency, summed over users (and fund sources
        unless one is asked for). Always true cents: the anomaly is in user records only."""
        out = []
        for ccy in self.currencies:
            sums = dict.fromkeys(MONEY_FIELDS, 0)
            for (_, f, c), values in self.cents.items():
                if c == ccy and (fund is None or f == fund):
                    for name in MONEY_FIELDS:
                        sums[name] += values[name]
            sums["balance"] += sum(
                delta
                for (f, c), delta in self.platform_delta.items()
                if c == ccy and (fund is None or f == fund)
            )
            out.append(self._record(ccy, sums, None))
        return out

    def _record(self, ccy: str, values: dict[str, int], cell: Cell | None) -> dict[str, Any]:
        def money_object(name: str) -> dict[str, Any]:
            cents = values[name]
            planted = self._cent_delta.get((*cell, name)) if cell is not None else None
            return {
                "amount": money(cents),
                "cent": cents + (planted.delta if planted is not None else 0),
                "centFactor": CENT_FACTOR,
                "currency": "CNY" if name == "rmbAmount" else ccy,
            }

        return {
            "balance": money_object("balance"),
            "orderQuota": money_object("orderQuota"),
            "currency": ccy,
            "rmbAmount": money_object("rmbAmount"),
            "pendingAmount": money_object("pendingAmount"),
            "freezeAmount": money_object("freezeAmount"),
        }

    def manifest_rows(self) -> list[dict[str, Any]]:
        """Manifest rows; money here is in minor units (cents, integer text)."""
        rows = []
        for p in self.planted:
            expected = self.cents[(p.user_id, p.fund_source, p.currency)][p.field]
            actual = expected + p.delta
            rows.append(
                {
                    "check_name": "money_unit_mismatch",
                    "provider": "whalet",
                    "account_id": p.user_id,
                    "entity_type": "money",
                    "entity_id": f"{p.fund_source}:{p.currency}:{p.field}",
                    "currency": p.currency,
                    "transaction_ids": [],
                    "expected": str(expected),
                    "actual": str(actual),
                    "difference": str(actual - expected),
                    "detail": f"{p.field}.cent is not amount times centFactor",
                }
            )
        # Platform rows compare balances, so their money is in major units (decimal text).
        for (fund, ccy), delta in sorted(self.platform_delta.items()):
            users = self.users_balance(fund, ccy)
            rows.append(
                {
                    "check_name": "whalet_platform_mismatch",
                    "provider": "whalet",
                    "account_id": self.partner_id,
                    "entity_type": "platform",
                    "entity_id": f"{fund}:{ccy}",
                    "currency": ccy,
                    "transaction_ids": [],
                    "expected": str(money(users)),
                    "actual": str(money(users + delta)),
                    "difference": str(money(delta)),
                    "detail": "platform balance differs from the sum of its users' balances",
                }
            )
        return rows
