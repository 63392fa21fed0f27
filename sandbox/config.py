"""Configuration of a sandbox world: what exists, what is broken, and how it is served."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from sandbox import rates

ANOMALY_KINDS: tuple[str, ...] = (
    "entry_arithmetic",
    "chain_gap",
    "duplicate_entry",
    "wallet_balance_mismatch",
    "fx_missing_leg",
    "fx_amount_mismatch",
    "fx_rate_deviation",
    "order_debit_missing",
    "order_debit_mismatch",
    "card_balance_mismatch",
    "refund_exceeds_origin",
    "refund_without_origin",
    "payment_fee_mismatch",
    "payment_return_missing",
    "closed_card_balance",
    "wallet_freeze_mismatch",
    # Transfers between OPEN-API and JT (sandbox/transfers.py); reported on the OPEN-API side.
    "transfer_unmatched",
    "transfer_amount_mismatch",
)
TRANSFER_KINDS: tuple[str, ...] = ("transfer_unmatched", "transfer_amount_mismatch")

JT_ANOMALY_KINDS: tuple[str, ...] = (
    "jt_balance_composition",
    "chain_gap",
    "entry_arithmetic",
    "wallet_balance_mismatch",
    # Last: it books one more record, so it draws after every other kind.
    "duplicate_entry",
)

WHALET_ANOMALY_KINDS: tuple[str, ...] = ("money_unit_mismatch", "whalet_platform_mismatch")

FAULT_KINDS: tuple[str, ...] = (
    "rate_limited_429",
    "server_error_5xx",
    "slow",
    "busy_5000",
    "throttled_1003",
    "truncated",
    "page_shift",
)

# Malformed answers: a successful response whose body breaks the contract's shape. Kept apart
# from FAULT_KINDS (which a careful client survives) because a client must refuse them.
RESPONSE_FAULT_KINDS: tuple[str, ...] = (
    "data_list",  # `data` is a list (the data object wrapped in one)
    "data_null",  # `data` is null
    "row_not_object",  # the first row of a list page is a JSON string of itself
    "list_missing",  # the list key is absent from `data`
    "list_not_list",  # the list key holds an object instead of a list
    "total_missing",  # a list page without `total`
    "total_not_number",  # `total` is the string "many"
    "unknown_field",  # every row of a list page carries a field the contract does not define
)


@dataclass(frozen=True)
class FaultConfig:
    """Transport faults and malformed answers: the share of requests that get each.

    Transport faults never change the data, only how it is served. At most one fault hits a
    request. `page_shift` applies only to list requests for page 2 or later (where a row
    inserted at the head of the window pushes the page down by one); the other rates apply to
    every request. A response fault (RESPONSE_FAULT_KINDS) bends the shape of a successful
    answer of a data endpoint (not Whalet's token exchange); one that does not apply to the
    answer drawn for (a `total` fault on a detail endpoint) leaves it as it was.
    """

    rates: dict[str, float] = field(default_factory=dict)
    retry_after_seconds: int = 1
    slow_seconds: float = 5.0

    def __post_init__(self) -> None:
        known = FAULT_KINDS + RESPONSE_FAULT_KINDS
        unknown = set(self.rates) - set(known)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {list(known)}")
        for kind, rate in self.rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {kind} must be within [0, 1], got {rate}")
        if sum(r for k, r in self.rates.items() if k != "page_shift") > 1.0:
            raise ValueError("fault rates (other than page_shift) must add up to at most 1")

    @classmethod
    def every_fault(cls, rate: float = 0.05, **kwargs: Any) -> FaultConfig:
        """Every transport fault kind on at the same rate."""
        return cls(rates=dict.fromkeys(FAULT_KINDS, rate), **kwargs)


def _check_counts(anomalies: dict[str, int], known: tuple[str, ...], provider: str) -> None:
    unknown = set(anomalies) - set(known)
    if unknown:
        raise ValueError(
            f"unknown {provider} anomaly kinds {sorted(unknown)}; known: {list(known)}"
        )
    if any(n < 0 for n in anomalies.values()):
        raise ValueError(f"{provider} anomaly counts must not be negative")


@dataclass(frozen=True)
class JtConfig:
    """The JT wallet world: users with balance-record chains, money in minor units (satang)."""

    users: int = 4
    records_per_day: int = 60  # balance records per day over all users
    currency: str = "THB"  # minor units = satang, exponent 2
    anomalies: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_counts(self.anomalies, JT_ANOMALY_KINDS, "JT")
        if self.users < 1 or self.records_per_day < 1:
            raise ValueError("a JT world needs at least 1 user and 1 record per day")


@dataclass(frozen=True)
class WhaletConfig:
    """The Whalet world: users' balances per fund source and currency."""

    users: int = 2
    currencies: tuple[str, ...] = ("USD", "EUR", "CNY")
    token_ttl_seconds: int = 7200
    anomalies: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_counts(self.anomalies, WHALET_ANOMALY_KINDS, "Whalet")
        if (
            self.users < 1
            or not self.currencies
            or len(set(self.currencies)) < len(self.currencies)
        ):
            raise ValueError("a Whalet world needs at least 1 user and distinct currencies")
        if self.token_ttl_seconds < 1:
            raise ValueError("token_ttl_seconds must be positive")


@dataclass(frozen=True)
class WorldConfig:
    """A sandbox world. The same config (seed included) always builds the same world."""

    seed: int = 7
    customers: int = 3
    days: int = 7
    start_date: date = date(2026, 11, 9)
    entries_per_day: int = 100
    currencies: tuple[str, ...] = ("USD", "HKD", "EUR", "CNY")
    card_currencies: tuple[str, ...] = ("USD", "EUR")
    timezone: str = "UTC"
    anomalies: dict[str, int] = field(default_factory=dict)
    late_entry_rate: float = 0.01
    # Transfers between the OPEN-API wallet in JT's currency and JT users, a day, both ways.
    transfers_per_day: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    jt: JtConfig = field(default_factory=JtConfig)
    whalet: WhaletConfig = field(default_factory=WhaletConfig)

    def __post_init__(self) -> None:
        unknown = set(self.anomalies) - set(ANOMALY_KINDS)
        if unknown:
            raise ValueError(
                f"unknown anomaly kinds {sorted(unknown)}; known: {list(ANOMALY_KINDS)}"
            )
        if any(n < 0 for n in self.anomalies.values()):
            raise ValueError("anomaly counts must not be negative")
        if self.customers < 1 or self.days < 2 or self.entries_per_day < 10:
            raise ValueError("a world needs at least 1 customer, 2 days and 10 entries per day")
        if len(set(self.currencies)) < 2 or not set(self.card_currencies) <= set(self.currencies):
            raise ValueError("need two or more currencies, and card currencies among them")
        if self.transfers_per_day < 0:
            raise ValueError("transfers_per_day must not be negative")
        if self.has_transfers and self.jt.currency not in self.currencies:
            # A transfer arrives in the currency it left in (providers.md §4): it leaves from
            # (or arrives at) a wallet in JT's currency, which every customer then has.
            object.__setattr__(self, "currencies", (*self.currencies, self.jt.currency))
        if self.has_transfers and not rates.supported(self.jt.currency):
            raise ValueError(f"the sandbox has no reference rate for JT's {self.jt.currency}")

    @property
    def has_transfers(self) -> bool:
        """Whether the world moves money between OPEN-API and JT (sandbox.transfers)."""
        return bool(self.transfers_per_day or any(self.anomalies.get(k) for k in TRANSFER_KINDS))

    def with_anomalies(self, **counts: int) -> WorldConfig:
        return replace(self, anomalies=counts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start_date"] = self.start_date.isoformat()
        data["currencies"] = list(self.currencies)
        data["card_currencies"] = list(self.card_currencies)
        data["whalet"]["currencies"] = list(self.whalet.currencies)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorldConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown world config keys {sorted(unknown)}; known: {sorted(known)}")
        kwargs = dict(data)
        if "start_date" in kwargs:
            kwargs["start_date"] = date.fromisoformat(kwargs["start_date"])
        for key in ("currencies", "card_currencies"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if "faults" in kwargs:
            kwargs["faults"] = FaultConfig(**kwargs["faults"])
        if "jt" in kwargs:
            kwargs["jt"] = JtConfig(**kwargs["jt"])
        if "whalet" in kwargs:
            whalet = dict(kwargs["whalet"])
            if "currencies" in whalet:
                whalet["currencies"] = tuple(whalet["currencies"])
            kwargs["whalet"] = WhaletConfig(**whalet)
        return cls(**kwargs)

    @classmethod
    def from_file(cls, path: Path) -> WorldConfig:
        return cls.from_json(json.loads(path.read_text()))


def default_config(seed: int = 7) -> WorldConfig:
    """The demo world: a few customers, a week, a few thousand entries, every anomaly kind."""
    return WorldConfig(
        seed=seed,
        anomalies={
            "entry_arithmetic": 2,
            "chain_gap": 2,
            "duplicate_entry": 1,
            "wallet_balance_mismatch": 1,
            "fx_missing_leg": 1,
            "fx_amount_mismatch": 1,
            "fx_rate_deviation": 2,
            "order_debit_missing": 1,
            "order_debit_mismatch": 1,
            "card_balance_mismatch": 2,
            "refund_exceeds_origin": 1,
            "refund_without_origin": 3,
            "payment_fee_mismatch": 1,
            "payment_return_missing": 2,
            "closed_card_balance": 2,
            "wallet_freeze_mismatch": 1,
            "transfer_unmatched": 1,
            "transfer_amount_mismatch": 1,
        },
        # Every customer also has a THB wallet, for the transfers to and from JT (in THB).
        transfers_per_day=3,
        jt=JtConfig(
            anomalies={
                "jt_balance_composition": 2,
                "chain_gap": 1,
                "entry_arithmetic": 1,
                "wallet_balance_mismatch": 1,
                "duplicate_entry": 1,
            }
        ),
        whalet=WhaletConfig(anomalies={"money_unit_mismatch": 2, "whalet_platform_mismatch": 1}),
    )
