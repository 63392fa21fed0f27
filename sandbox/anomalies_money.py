"""Plants card-trade and payment anomalies: refunds without or beyond their purchase, payments
whose attach disagrees with their amount, rejected payments never returned.

A planted refund credits its card, so the card's balance history takes it in from that moment
on: the card still ties out (`card_balance_mismatch` stays silent) and only the refund's own
rule breaks. Cards that close are left alone, since a closure refunds whatever the card held
when it closed. A payment's status or attach changes no balance, and a planted return only
adds an income row to a chain that is re-derived afterwards (world.chain_order).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sandbox.model import APPROVED, INCOME, REJECTED, Card, Customer, Entry, Trade, money
from sandbox.planted import Planted, PlanterBase

MONEY_KINDS: tuple[str, ...] = (
    "refund_exceeds_origin",
    "refund_without_origin",
    "payment_fee_mismatch",
    "payment_return_missing",
)
# refund_without_origin plantings cycle through the three ways a refund can lack its purchase.
ORPHAN_REASONS = ("empty", "unknown", "failed")


def credit_card(card: Card, t: int, amount: int) -> None:
    """A credit of `amount` at `t` enters the card's balance history from then on."""
    i = bisect_right(card.history_times, t)
    _, balance, limit = card.history[i - 1]
    shifted = [(when, b + amount, lim) for when, b, lim in card.history[i:]]
    card.history[i:] = [(t, balance + amount, limit), *shifted]
    card.history_times[i:i] = [t]


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


class TradePaymentPlanter(PlanterBase):
    def _token(self, n: int = 20) -> str:
        return format(self.rng.getrandbits(4 * n), f"0{n}x")

    def _lasting_cards(self) -> dict[str, tuple[Customer, Card]]:
        return {k.card_id: (c, k) for c in self.customers for k in c.cards if k.close_at is None}

    def _trade(self, like: Trade, **changes: Any) -> Trade:
        return replace(
            like,
            trade_id=f"tr_{self._token()}",
            settle_time=None,
            tie=self.rng.getrandbits(32),
            auth_code=f"{self.rng.randrange(1_000_000):06d}",
            **changes,
        )

    def refund_exceeds_origin(self, n: int) -> None:
        cards = self._lasting_cards()
        purchases = [
            (cards[t.card_id][0], cards[t.card_id][1], t)
            for c in self.customers
            for t in c.trades
            if t.card_id in cards
            and t.trade_type == 1
            and t.trade_result == 1
            and self.lo <= t.trade_time < self.hi - 3600
            and self._free(t)
        ]
        for c, card, purchase in self.pick("refund_exceeds_origin", purchases, n):
            credited = sum(
                t.trade_amount
                for t in c.trades
                if t.origin_trade_id == purchase.trade_id and t.effect() > 0
            )
            amount = purchase.trade_amount - credited + self.rng.randint(100, 5_000)
            refund = self._trade(
                purchase,
                origin_trade_id=purchase.trade_id,
                trade_type=2,
                trade_amount=amount,
                merchant_amount=amount,
                trade_time=purchase.trade_time + self.rng.randint(60, 3600),
            )
            c.trades.append(refund)
            credit_card(card, refund.trade_time, amount)
            self._take(purchase, refund)
            p = Planted("refund_exceeds_origin", c, "trade", purchase.trade_id, card.currency)
            p.info.update(trades=[purchase, refund], credited=credited + amount)
            self.planted.append(p)

    def refund_without_origin(self, n: int) -> None:
        cards = [(c, k) for c, k in self._lasting_cards().values() if k.created_at + 3600 < self.hi]
        for j, (c, card) in enumerate(self.pick("refund_without_origin", cards, n)):
            reason = ORPHAN_REASONS[j % len(ORPHAN_REASONS)]
            t = self.rng.randrange(max(self.lo, card.created_at + 1800), self.hi)
            amount = self.rng.randint(100, 5_000)
            like = Trade(
                trade_id="",
                card_id=card.card_id,
                customer_id=c.customer_id,
                origin_trade_id="",
                trade_type=2,
                trade_result=1,
                trade_amount=amount,
                trade_currency=card.currency,
                merchant_amount=amount,
                merchant_currency=card.currency,
                merchant_name="SHOPIFY",
                mcc="5734",
                auth_code="",
                trade_time=t,
                settle_time=None,
                tie=0,
            )
            trades = []
            origin = ""
            if reason == "unknown":
                origin = f"tr_{self._token()}"
            elif reason == "failed":
                failed = self._trade(like, trade_type=1, trade_result=2, trade_time=t - 900)
                c.trades.append(failed)
                trades.append(failed)
                origin = failed.trade_id
            refund = self._trade(like, origin_trade_id=origin, trade_type=2 if j % 2 else 3)
            c.trades.append(refund)
            trades.append(refund)
            credit_card(card, t, amount)
            self._take(*trades)
            p = Planted("refund_without_origin", c, "trade", refund.trade_id, card.currency)
            p.info.update(trades=trades, reason=reason, amount=amount)
            self.planted.append(p)

    def _payments(self) -> list[tuple[Customer, Entry]]:
        returned = {
            e.record_id for c in self.customers for e in c.entries if e.transaction_type == 5020
        }
        return [
            (c, e)
            for c in self.customers
            for e in c.entries
            if e.transaction_type == 5010
            and e.attach is not None
            and e.status_final == APPROVED
            and e.record_id not in returned
            and self.lo <= e.transaction_time
            and e.status_at is not None
            and e.status_at < self.hi - 6 * 3600
            and self._free(e)
        ]

    def payment_fee_mismatch(self, n: int) -> None:
        for c, e in self.pick("payment_fee_mismatch", self._payments(), n):
            assert e.attach is not None
            detail = dict(e.attach["fee_detail"])
            fee = e.amount - _cents(e.attach["pay_out_amount"])
            delta = self.rng.randint(1, 1_000)
            fee = fee - delta if fee > delta and self.rng.random() < 0.5 else fee + delta
            detail["fee"] = money(fee)
            e.attach = {**e.attach, "fee_detail": detail}
            self._take(e)
            p = Planted("payment_fee_mismatch", c, "entry", e.transaction_id, e.currency, [e])
            p.info["stated"] = _cents(e.attach["pay_out_amount"]) + fee
            self.planted.append(p)

    def payment_return_missing(self, n: int) -> None:
        """Even plantings: a payment rejected and never returned; odd: a payment approved and
        then returned more than it took."""
        for j, (c, e) in enumerate(self.pick("payment_return_missing", self._payments(), n)):
            assert e.status_at is not None
            p = Planted("payment_return_missing", c, "entry", e.transaction_id, e.currency, [e])
            if j % 2 == 0:
                e.status_final, e.reject_reason = REJECTED, "payee account closed"
                p.info["returned"] = 0
            else:
                t = e.status_at + self.rng.randint(3600, 5 * 3600)
                stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(t))
                back = replace(
                    e,
                    seq=max(x.seq for x in c.entries) + 1,
                    transaction_id=f"3000{stamp}{c.customer_id:012d}{self._token(16)}",
                    out_transaction_id=f"ot_{self._token(16)}",
                    in_out_type=INCOME,
                    transaction_type=5020,
                    amount=e.amount + self.rng.randint(100, 10_000),
                    transaction_time=t,
                    create_at=t,
                    tie=self.rng.getrandbits(32),
                    status_at=None,
                    remark="付款退回",
                    attach=None,
                    approve_type=10,
                )
                c.entries.append(back)
                c.wallets[e.currency].entries.append(back)
                p.entries.append(back)
                p.info["returned"] = back.amount
            self._take(*p.entries)
            self.planted.append(p)


def describe_money(p: Planted, row: dict[str, Any]) -> tuple[int | None, int | None]:
    """Fills the manifest row of a MONEY_KINDS anomaly; returns (expected, actual) in cents."""
    if p.check_name in ("refund_exceeds_origin", "refund_without_origin"):
        row["trade_ids"] = [t.trade_id for t in p.info["trades"]]
    if p.check_name == "refund_exceeds_origin":
        purchase = p.info["trades"][0]
        row["detail"] = "refunds and reversals of the purchase add up to more than it"
        return purchase.trade_amount, p.info["credited"]
    if p.check_name == "refund_without_origin":
        row["reason"] = p.info["reason"]
        row["detail"] = f"refund without a valid origin_trade_id ({p.info['reason']})"
        return None, p.info["amount"]
    if p.check_name == "payment_fee_mismatch":
        row["detail"] = "payment amount differs from pay_out_amount + fee_detail.fee"
        return p.info["stated"], p.entries[0].amount
    payment = p.entries[0]
    row["detail"] = (
        "rejected payment was never returned"
        if p.info["returned"] == 0
        else "payment was returned more than it took"
    )
    return payment.amount, p.info["returned"]
