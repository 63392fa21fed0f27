"""Generates one customer's activity as a discrete-event simulation.

Every movement is an action on a heap ordered by (time, sequence), so balances are exact at
the moment each decision is taken (a payment needs funds, a card closure refunds the card's
balance at that second). The wallet chains themselves are recomputed after anomalies are
planted (see world.finalize), so this module only needs balances for decisions.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from typing import Any

from sandbox import rates
from sandbox.config import WorldConfig
from sandbox.model import (
    APPROVED,
    DAY,
    EXPENSE,
    INCOME,
    REJECTED,
    TRANSACTION_TYPES,
    Customer,
    Entry,
    money,
    rate_num,
)

Action = Callable[[int], object]


class CustomerSim:
    """Simulates one customer over [start, end)."""

    def __init__(self, cfg: WorldConfig, customer: Customer, start: int, end: int) -> None:
        self.cfg = cfg
        self.c = customer
        self.start = start
        self.end = end
        self.rng = random.Random(f"{cfg.seed}:customer:{customer.customer_id}")
        self.seq = 0
        self.heap: list[tuple[int, int, Action]] = []
        self.balance: dict[str, int] = dict.fromkeys(cfg.currencies, 0)

    def token(self, n: int = 16) -> str:
        return format(self.rng.getrandbits(4 * n), f"0{n}x")

    def randint(self, low: int, high: int) -> int:
        """Like Random.randint but one draw, no rejection loop: this runs several times a row.

        The modulo bias is below 1e-5 for the spans used here, immaterial for synthetic data.
        """
        return low + self.rng.getrandbits(48) % (high - low + 1)

    def hex_id(self, bits: int = 128) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def transaction_id(self, ttype: int, t: int) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(t))
        product = TRANSACTION_TYPES[ttype][1]
        return f"{product}{stamp}{self.c.customer_id:012d}{self.rng.getrandbits(64):016x}"

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def at(self, t: int, action: Action) -> bool:
        """Schedule an action; anything due at or after the world's end never happens."""
        if t >= self.end:
            return False
        heapq.heappush(self.heap, (t, self.next_seq(), action))
        return True

    def run(self) -> None:
        while self.heap:
            t, _, action = heapq.heappop(self.heap)
            action(t)

    def entry(
        self,
        t: int,
        ttype: int,
        io: int,
        amount: int,
        currency: str,
        *,
        record_id: str = "",
        out_id: str | None = None,
        tx_id: str | None = None,
        attach: dict[str, Any] | None = None,
        create_at: int | None = None,
        **extra: Any,
    ) -> Entry:
        if create_at is None:
            create_at = t + self.randint(0, 1)
            if ttype in (1010, 9010) and self.rng.random() < self.cfg.late_entry_rate:
                # Booked at t but created hours later, possibly after its day closed.
                late = t + self.randint(2 * 3600, 30 * 3600)
                if late < self.end:
                    create_at = late
        return Entry(
            seq=self.next_seq(),
            customer_id=self.c.customer_id,
            transaction_id=tx_id or self.transaction_id(ttype, t),
            record_id=record_id,
            out_transaction_id=out_id if out_id is not None else f"ot_{self.token()}",
            in_out_type=io,
            transaction_type=ttype,
            amount=amount,
            currency=currency,
            transaction_time=t,
            create_at=create_at,
            tie=self.rng.getrandbits(32),
            remark=TRANSACTION_TYPES[ttype][0],
            attach=attach,
            **extra,
        )

    def post(self, e: Entry) -> None:
        self.c.entries.append(e)
        self.c.wallets[e.currency].entries.append(e)
        self.balance[e.currency] += e.signed_amount()

    def post_later(self, e: Entry) -> bool:
        return self.at(e.transaction_time, lambda _t: self.post(e))

    def scaled(self, low_usd_cents: int, high_usd_cents: int, currency: str) -> int:
        return self.randint(low_usd_cents, high_usd_cents) * rates.amount_scale(currency)

    def deposit(self, t: int, currency: str | None = None, amount: int | None = None) -> Entry:
        ccy = currency or self.rng.choice(self.cfg.currencies)
        cents = amount if amount is not None else self.scaled(10_000, 1_000_000, ccy)
        e = self.entry(t, 1010, INCOME, cents, ccy, out_id=f"dp_{self.token()}")
        self.post(e)
        return e

    def adjustment(self, t: int, currency: str | None = None) -> None:
        ccy = currency or self.rng.choice(self.cfg.currencies)
        cents = self.scaled(100, 50_000, ccy)
        io = EXPENSE if self.rng.random() < 0.5 and self.balance[ccy] >= cents else INCOME
        self.post(self.entry(t, 9010, io, cents, ccy, out_id=f"adj_{self.token()}"))

    def payment(self, t: int, currency: str | None = None) -> None:
        ccy = currency or self.rng.choice(self.cfg.currencies)
        pay_out = self.scaled(5_000, 300_000, ccy)
        fee = self.rng.choice((0, 1500, 2500)) * rates.amount_scale(ccy)
        amount = pay_out + fee
        if self.balance[ccy] < amount:
            self.deposit(t, ccy)
            return
        payment_id = f"pm_{self.token()}"
        approve_at = t + self.randint(60, 6 * 3600)
        final = REJECTED if self.rng.random() < 0.08 else APPROVED
        entry_ccy = self.rng.choice(self.cfg.currencies)
        rate = rates.reference_rate_e8(ccy, entry_ccy, t, self.cfg.currencies)
        attach = {
            "customer_id": self.c.customer_id,
            "app_id": self.c.app_id,
            "wallet_sn": self.c.wallets[ccy].wallet_sn,
            "payee_id": f"pe_{self.token()}",
            "pay_out_amount": money(pay_out),
            "pay_out_currency": ccy,
            "exchange_rate": rate_num(rate),
            "entry_amount": money(rates.convert_cents(pay_out, rate)),
            "entry_currency": entry_ccy,
            "fee_detail": {
                "fee": money(fee),
                "pay_method": "SWIFT",
                "fee_mode": "SHA",
                "fee_rate": 0,
                "our_fee": money(fee),
                "sha_fee": money(fee * 3 // 5),
                "same_name_extra_fee": money(fee - fee * 3 // 5),
            },
            "payment_id": payment_id,
        }
        reason = "payee account closed" if final == REJECTED else ""
        e = self.entry(
            t,
            5010,
            EXPENSE,
            amount,
            ccy,
            record_id=payment_id,
            out_id=f"pm_{self.token()}",
            attach=attach,
            status_final=final,
            status_at=approve_at,
            reject_reason=reason,
            approve_type=20,
        )
        self.post(e)
        if final == REJECTED:
            self.payment_return(approve_at, payment_id, amount, ccy)
        elif self.rng.random() < 0.04:
            self.payment_return(approve_at + self.randint(3600, 2 * DAY), payment_id, amount, ccy)

    def payment_return(self, t: int, payment_id: str, amount: int, ccy: str) -> None:
        self.post_later(self.entry(t, 5020, INCOME, amount, ccy, record_id=payment_id))

    def exchange(self, t: int, second_leg_at: int | None = None) -> None:
        sell = self.rng.choice(self.cfg.currencies)
        buy = self.rng.choice([c for c in self.cfg.currencies if c != sell])
        sell_cents = self.scaled(5_000, 300_000, sell)
        leg2_t = second_leg_at if second_leg_at is not None else t + self.randint(0, 2)
        if self.balance[sell] < sell_cents or leg2_t >= self.end:
            self.deposit(t, sell)
            return
        reference = rates.reference_rate_e8(sell, buy, t, self.cfg.currencies)
        applied = rates.shift_bps(reference, self.randint(-10, 10))
        buy_cents = rates.convert_cents(sell_cents, applied)
        exchange_id = f"ex_{self.token()}"
        attach = {
            "exchange_id": exchange_id,
            "exchange_rate": rate_num(applied),
            "sell_currency": sell,
            "sell_amount": money(sell_cents),
            "buy_currency": buy,
            "buy_amount": money(buy_cents),
        }
        tx_id = self.transaction_id(3010, t)
        out_id = f"fx_{self.token()}"
        common: dict[str, Any] = {"record_id": exchange_id, "out_id": out_id, "tx_id": tx_id}
        expense = self.entry(t, 3010, EXPENSE, sell_cents, sell, attach=attach, **common)
        income = self.entry(leg2_t, 3010, INCOME, buy_cents, buy, attach=attach, **common)
        self.post(expense)
        self.post_later(income)
        self.c.exchanges[tx_id] = [expense, income]

    def burst(self, t: int) -> None:
        """Several entries of one wallet within one second, created at the same instant."""
        ccy = self.rng.choice(self.cfg.currencies)
        for _ in range(self.randint(3, 5)):
            cents = self.scaled(100, 20_000, ccy)
            io = EXPENSE if self.rng.random() < 0.5 and self.balance[ccy] >= cents else INCOME
            ttype = 1010 if io == INCOME else 9010
            self.post(self.entry(t, ttype, io, cents, ccy, create_at=t, out_id=f"b_{self.token()}"))

    def identical_pair(self, t: int) -> None:
        """Two distinct deposits with identical amount and time (not a duplicate)."""
        ccy = self.rng.choice(self.cfg.currencies)
        cents = self.scaled(1_000, 100_000, ccy)
        for _ in range(2):
            self.post(self.entry(t, 1010, INCOME, cents, ccy, create_at=t))
