"""The entities of a sandbox world.

Money is held as integer cents and rates as integer units of 1e-8 so that generation is exact
and fast; it becomes decimal text only when served. Times are integer seconds on a naive clock
in the provider's time zone (epoch arithmetic, no zone conversion).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DAY = 86_400

# Transaction type -> (label, product line). Product lines follow the seed ids: 1000 wallet
# movements, 2000 card business, 3000 payments.
TRANSACTION_TYPES: dict[int, tuple[str, int]] = {
    1010: ("充值", 1000),
    3010: ("换汇", 1000),
    4010: ("开卡", 2000),
    4020: ("卡充值", 2000),
    4030: ("销卡退款", 2000),
    5010: ("付款", 3000),
    5020: ("付款退回", 3000),
    9010: ("调账", 1000),
}

INCOME, EXPENSE = 1, 2
PENDING, APPROVED, REJECTED = 1, 2, 3


def day_start(d: date) -> int:
    return calendar.timegm(d.timetuple())


def fmt_time(t: int | None) -> str:
    """Provider datetime text; unset is the empty string."""
    if t is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def parse_time(text: str) -> int:
    """Parse provider datetime text; raises ValueError on anything else."""
    return calendar.timegm(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timetuple())


class Num(str):
    """A JSON number kept as its exact decimal text (served raw, never through float)."""

    __slots__ = ()


def money(cents: int) -> Num:
    """Major-unit text as the provider prints it: 10020, 9865.29, 200.5."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if frac == 0:
        return Num(f"{sign}{whole}")
    return Num(f"{sign}{whole}.{frac:02d}".rstrip("0"))


def rate_num(rate_e8: int) -> Num:
    """A rate with up to 8 decimals, trailing zeros dropped."""
    whole, frac = divmod(rate_e8, 100_000_000)
    if frac == 0:
        return Num(str(whole))
    return Num(f"{whole}.{frac:08d}".rstrip("0"))


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (the providers' round_half_up)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


@dataclass(slots=True, eq=False)
class Entry:
    """One ledger row (transaction bill) of a customer's wallet."""

    seq: int
    customer_id: int
    transaction_id: str
    record_id: str
    out_transaction_id: str
    in_out_type: int
    transaction_type: int
    amount: int
    currency: str
    transaction_time: int
    create_at: int
    tie: int
    status_final: int = APPROVED
    status_at: int | None = None
    reject_reason: str = ""
    remark: str = ""
    attach: dict[str, Any] | None = None
    approve_type: int = 10
    before: int = 0
    after: int = 0
    hidden: bool = False
    served_amount: int | None = None

    def status_at_time(self, now: int) -> int:
        if self.status_at is None or now >= self.status_at:
            return self.status_final
        return PENDING

    def signed_amount(self) -> int:
        return self.amount if self.in_out_type == INCOME else -self.amount


@dataclass(slots=True, eq=False)
class Wallet:
    wallet_id: int
    wallet_sn: str
    customer_id: int
    currency: str
    create_at: int
    entries: list[Entry] = field(default_factory=list)
    chain_times: list[int] = field(default_factory=list)
    balance_delta: int = 0
    # wallet_freeze_mismatch: reported frozen (status 2) from this time on; funds held (cents).
    frozen_at: int | None = None
    freeze_balance: int = 0

    def status_at_time(self, now: int) -> int:
        return 2 if self.frozen_at is not None and now >= self.frozen_at else 1


@dataclass(slots=True, eq=False)
class Order:
    order_id: str
    out_order_id: str
    customer_id: int
    order_type: int
    card_id: str
    amount: int
    fee: int
    currency: str
    status_final: int
    create_at: int
    finish_at: int

    @property
    def total_amount(self) -> int:
        return self.amount - self.fee if self.order_type == 3 else self.amount + self.fee


@dataclass(slots=True, eq=False)
class Trade:
    trade_id: str
    card_id: str
    customer_id: int
    origin_trade_id: str
    trade_type: int
    trade_result: int
    trade_amount: int
    trade_currency: str
    merchant_amount: int
    merchant_currency: str
    merchant_name: str
    mcc: str
    auth_code: str
    trade_time: int
    settle_time: int | None
    tie: int

    def effect(self) -> int:
        """Signed effect on the card balance: only successful money-moving trades count."""
        if self.trade_result != 1 or self.trade_type == 5:
            return 0
        return -self.trade_amount if self.trade_type in (1, 4) else self.trade_amount


@dataclass(slots=True, eq=False)
class Card:
    card_id: str
    customer_id: int
    app_id: int
    bin_id: str
    card_no: str
    expiry: str
    cvv: str
    pin: str
    currency: str
    created_at: int
    close_at: int | None = None
    end_at: int | None = None
    # (time, balance, limit) after each change, in time order
    history: list[tuple[int, int, int]] = field(default_factory=list)
    history_times: list[int] = field(default_factory=list)
    balance_delta: int = 0
    limit_delta: int = 0
    # (time, status) set by hand after generation, e.g. a freeze a webhook announces
    # (sandbox.webhooks); closing and closed still win.
    status_changes: list[tuple[int, int]] = field(default_factory=list)

    def status_at_time(self, now: int) -> int:
        if self.end_at is not None and now >= self.end_at:
            return 5
        if self.close_at is not None and now >= self.close_at:
            return 4
        changed = [s for t, s in self.status_changes if t <= now]
        return changed[-1] if changed else 2


@dataclass(slots=True, eq=False)
class Customer:
    customer_id: int
    app_id: int
    key: str
    wallets: dict[str, Wallet] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    # exchange transaction_id -> its legs (as generated, before anomalies remove any)
    exchanges: dict[str, list[Entry]] = field(default_factory=dict)
