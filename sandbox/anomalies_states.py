"""Plants card and wallet state anomalies: closed cards that keep money or were refunded
other than what they held, and wallets reporting a negative freeze_balance.

A closed card is planted so that it still ties out with its orders and trades
(`card_balance_mismatch` stays silent): the money its closure did not refund stays on the
card, in its balance history. A frozen wallet is frozen after its last entry, so its ledger
never moves while frozen; only its freeze_balance breaks the rule. (A wallet that moves while
frozen is seen only by a pipeline that read it frozen twice around the movement, which a
ground truth for any reading cadence cannot promise: the worked example covers it.)
"""

from __future__ import annotations

from typing import Any

from sandbox.model import Card, Customer, Entry, Order
from sandbox.planted import MARGIN, Planted, PlanterBase

STATE_KINDS: tuple[str, ...] = ("closed_card_balance", "wallet_freeze_mismatch")
# closed_card_balance plantings: half (rounded up) a closure refund short of what the card
# held, as far as the world has closures, the rest a card closed without any refund.
CLOSURE_FAULTS = ("refund_short", "no_refund")


class StatePlanter(PlanterBase):
    @property
    def _world_end(self) -> int:
        # A closed card's findings wait for no grace period: a closure may come up to the end.
        return self.hi + MARGIN

    def _closures(self) -> list[tuple[Customer, Card, Order, Entry]]:
        out = []
        for c in self.customers:
            refunds = {e.record_id: e for e in c.entries if e.transaction_type == 4030}
            for o in c.orders:
                card = next((k for k in c.cards if k.card_id == o.card_id), None)
                entry = refunds.get(o.order_id)
                if (
                    o.order_type == 3
                    and o.status_final == 2
                    and card is not None
                    and entry is not None
                    and card.end_at is not None
                    and self.lo <= card.end_at < self._world_end
                    and card.history_times[-1] == card.end_at
                    and o.amount - o.fee > 100
                    and self._free(card, o, entry)
                ):
                    out.append((c, card, o, entry))
        return out

    def _open_cards(self) -> list[tuple[Customer, Card, int]]:
        """Cards that never close, holding money, with the time of their last activity (a
        balance change, a trade or an order), which leaves room for a closure after it."""
        out = []
        for c in self.customers:
            for card in c.cards:
                if card.close_at is not None or not self._free(card) or card.history[-1][1] <= 0:
                    continue
                last = max(
                    [
                        card.history_times[-1],
                        *(t.trade_time for t in c.trades if t.card_id == card.card_id),
                        *(o.create_at for o in c.orders if o.card_id == card.card_id),
                    ]
                )
                if last + 3600 + 600 < self._world_end:
                    out.append((c, card, last))
        return out

    def closed_card_balance(self, n: int) -> None:
        closures = self._closures()
        short = iter(self.pick("closed_card_balance", closures, min(len(closures), (n + 1) // 2)))
        unrefunded = iter(self.pick("closed_card_balance", self._open_cards(), n - (n + 1) // 2))
        for j in range(n):
            closure = next(short, None) if j % 2 == 0 else None
            if closure is None:
                # Too few closures: the rest are closed without a refund instead.
                c, card, last = next(unrefunded, None) or self._one_more_open_card()
                # Closed after its last activity, with no closure order: it keeps its balance.
                card.close_at = last + self.rng.randint(60, 3600)
                card.end_at = card.close_at + self.rng.randint(60, 600)
                held = kept = card.history[-1][1]
                info: dict[str, Any] = {"fault": "no_refund", "held": held, "refunded": 0}
                self._take(card)
            else:
                c, card, order, entry = closure
                held = order.amount
                t, _, limit = card.history[-1]
                kept = self.rng.randint(1, min(held - order.fee - 1, 10_000))
                order.amount = held - kept
                entry.amount = order.total_amount
                card.history[-1] = (t, kept, limit)
                info = {"fault": "refund_short", "held": held, "refunded": order.amount}
                info["order"] = order
                self._take(card, order, entry)
            p = Planted("closed_card_balance", c, "card", card.card_id, card.currency, card=card)
            p.info.update(info, kept=kept)
            self.planted.append(p)

    def _one_more_open_card(self) -> tuple[Customer, Card, int]:
        (chosen,) = self.pick("closed_card_balance", self._open_cards(), 1)
        result: tuple[Customer, Card, int] = chosen
        return result

    def wallet_freeze_mismatch(self, n: int) -> None:
        wallets = [
            (c, w)
            for c in self.customers
            for w in c.wallets.values()
            if w.entries and self._free(w)
        ]
        for c, w in self.pick("wallet_freeze_mismatch", wallets, n):
            last = max(max(e.transaction_time, e.create_at) for e in w.entries)
            w.frozen_at = last + 1
            w.freeze_balance = -self.rng.randint(100, 100_000)
            self._take(w)
            p = Planted(
                "wallet_freeze_mismatch", c, "wallet", f"{c.customer_id}:{w.currency}", w.currency
            )
            p.info["freeze_balance"] = w.freeze_balance
            self.planted.append(p)


def describe_state(p: Planted, row: dict[str, Any]) -> tuple[int | None, int | None]:
    """Fills the manifest row of a STATE_KINDS anomaly; returns (expected, actual) in cents."""
    if p.check_name == "wallet_freeze_mismatch":
        row["detail"] = "wallet reports a negative freeze_balance"
        return 0, p.info["freeze_balance"]
    row["fault"] = p.info["fault"]
    if p.info["fault"] == "refund_short":
        row["order_id"] = p.info["order"].order_id
        row["detail"] = "closure refund returned less than the card held; the rest stays on it"
        return p.info["held"], p.info["refunded"]
    row["detail"] = "card closed without a closure refund, still holding its balance"
    return 0, p.info["kept"]
