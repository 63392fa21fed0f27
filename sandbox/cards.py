"""Card issuing activity: orders (open, top up, close), their wallet movements, and card trades."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.model import EXPENSE, INCOME, Card, Order, Trade
from sandbox.simulate import CustomerSim

_MERCHANTS = (
    ("AMAZON WEB SERVICES", "4816"),
    ("GOOGLE ADS", "7311"),
    ("META PLATFORMS", "7311"),
    ("SHOPIFY", "5734"),
    ("UBER TRIP", "4121"),
    ("STARBUCKS", "5814"),
)


@dataclass(slots=True, eq=False)
class CardState:
    """Running state of one card during the simulation."""

    card: Card
    balance: int = 0
    limit: int = 0
    closing: bool = False
    pending_orders: int = 0
    # successful purchases that can still be refunded or reversed: trade -> amount refunded
    refundable: dict[str, tuple[Trade, int]] = field(default_factory=dict)


class CardActivity:
    def __init__(self, sim: CustomerSim) -> None:
        self.sim = sim
        # Cards open and not closing, kept as a list so picking one does not scan every card.
        self.open: list[CardState] = []

    def active(self) -> list[CardState]:
        return self.open

    def _luhn_pan(self) -> str:
        rng = self.sim.rng
        digits = [rng.choice((4, 5))] + [self.sim.randint(0, 9) for _ in range(14)]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2 == 0:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        return "".join(map(str, digits)) + str((10 - total % 10) % 10)

    def _order(
        self, t: int, order_type: int, card_id: str, amount: int, fee: int, ccy: str
    ) -> Order:
        sim = self.sim
        order = Order(
            order_id=f"ord_{sim.token(20)}",
            out_order_id=f"oo_{sim.token(12)}",
            customer_id=sim.c.customer_id,
            order_type=order_type,
            card_id=card_id,
            amount=amount,
            fee=fee,
            currency=ccy,
            status_final=2,
            create_at=t,
            finish_at=t + sim.randint(1, 30),
        )
        return order

    def _debit(self, t: int, order: Order, ttype: int) -> None:
        self.sim.post(
            self.sim.entry(
                t,
                ttype,
                EXPENSE,
                order.total_amount,
                order.currency,
                record_id=order.order_id,
                out_id=order.out_order_id,
            )
        )

    def _record(self, state: CardState, t: int) -> None:
        card = state.card
        card.history.append((t, state.balance, state.limit))
        card.history_times.append(t)

    def open_card(self, t: int) -> None:
        sim = self.sim
        ccy = sim.rng.choice(sim.cfg.card_currencies)
        principal = sim.randint(2_000, 50_000)
        fee = sim.rng.choice((100, 200, 300, 500))
        order = self._order(t, 1, sim.hex_id(), principal, fee, ccy)
        failed = sim.balance[ccy] < order.total_amount or sim.rng.random() < 0.08
        if order.finish_at >= sim.end:
            return
        sim.c.orders.append(order)
        if failed:
            order.status_final = 3
            return

        def finish(ft: int) -> None:
            self._debit(ft, order, 4010)
            card = Card(
                card_id=order.card_id,
                customer_id=sim.c.customer_id,
                app_id=sim.c.app_id,
                bin_id=sim.rng.choice(("cpi_6530de6a2f1c7", "cpi_65a1b2c3d4e5f")),
                card_no=self._luhn_pan(),
                expiry=f"{sim.randint(1, 12):02d}/{sim.randint(28, 30)}",
                cvv=f"{sim.randint(0, 999):03d}",
                pin="" if sim.rng.random() < 0.5 else f"{sim.randint(0, 9999):04d}",
                currency=ccy,
                created_at=ft,
            )
            sim.c.cards.append(card)
            state = CardState(card, principal, principal)
            self.open.append(state)
            self._record(state, ft)

        sim.at(order.finish_at, finish)

    def top_up(self, t: int) -> None:
        sim = self.sim
        cards = self.active()
        if not cards:
            self.open_card(t)
            return
        state = sim.rng.choice(cards)
        ccy = state.card.currency
        principal = sim.randint(1_000, 30_000)
        fee = max(50, principal // 100)
        order = self._order(t, 2, state.card.card_id, principal, fee, ccy)
        if order.finish_at >= sim.end:
            return
        sim.c.orders.append(order)
        if sim.balance[ccy] < order.total_amount or sim.rng.random() < 0.08:
            order.status_final = 3
            return

        state.pending_orders += 1

        def finish(ft: int) -> None:
            state.pending_orders -= 1
            self._debit(ft, order, 4020)
            state.balance += principal
            state.limit += principal
            self._record(state, ft)

        sim.at(order.finish_at, finish)

    def close_card(self, t: int) -> None:
        sim = self.sim
        cards = [s for s in self.active() if s.balance > 500 and not s.pending_orders]
        if not cards:
            self.trade(t)
            return
        state = sim.rng.choice(cards)
        order = self._order(t, 3, state.card.card_id, 0, 100, state.card.currency)
        if order.finish_at >= sim.end:
            return
        state.closing = True
        self.open.remove(state)
        state.card.close_at = t
        sim.c.orders.append(order)

        def finish(ft: int) -> None:
            # The refund is whatever the card holds when the closure completes.
            order.amount = state.balance
            sim.post(
                sim.entry(
                    ft,
                    4030,
                    INCOME,
                    order.total_amount,
                    order.currency,
                    record_id=order.order_id,
                    out_id=order.out_order_id,
                )
            )
            state.balance = 0
            state.card.end_at = ft
            self._record(state, ft)

        sim.at(order.finish_at, finish)

    def trade(self, t: int) -> None:
        sim = self.sim
        cards = self.active()
        if not cards:
            self.open_card(t)
            return
        state = sim.rng.choice(cards)
        r = sim.rng.random()
        origin = ""
        if r < 0.5:
            kind, amount = 1, sim.randint(100, 20_000)
        elif r < 0.6 and state.refundable:
            kind = 2
            origin = sim.rng.choice(sorted(state.refundable))
            purchase, refunded = state.refundable[origin]
            amount = sim.randint(1, purchase.trade_amount - refunded)
        elif r < 0.68 and state.refundable:
            origin = sim.rng.choice(sorted(state.refundable))
            purchase, refunded = state.refundable[origin]
            if refunded:
                return
            kind, amount = 3, purchase.trade_amount
        elif r < 0.85:
            kind, amount = 4, sim.randint(30, 300)
        else:
            kind, amount = 5, 0
        result = 1
        if kind in (1, 4) and amount > state.balance:
            result = 2
        elif kind == 1 and sim.rng.random() < 0.16:
            result = sim.rng.choice((2, 3))
        merchant, mcc = sim.rng.choice(_MERCHANTS)
        settle = t + sim.randint(3600, 48 * 3600) if result == 1 else None
        trade = Trade(
            trade_id=f"tr_{sim.token(20)}",
            card_id=state.card.card_id,
            customer_id=sim.c.customer_id,
            origin_trade_id=origin,
            trade_type=kind,
            trade_result=result,
            trade_amount=amount,
            trade_currency=state.card.currency,
            merchant_amount=amount,
            merchant_currency=state.card.currency,
            merchant_name=merchant if kind != 4 else "CARD FEE",
            mcc=mcc if kind != 4 else "",
            auth_code=f"{sim.randint(0, 999_999):06d}",
            trade_time=t,
            settle_time=settle if settle is not None and settle < sim.end else None,
            tie=sim.rng.getrandbits(32),
        )
        sim.c.trades.append(trade)
        if result != 1:
            return
        state.balance += trade.effect()
        if kind == 1:
            state.refundable[trade.trade_id] = (trade, 0)
        elif kind == 2:
            purchase, refunded = state.refundable[origin]
            if refunded + amount >= purchase.trade_amount:
                del state.refundable[origin]
            else:
                state.refundable[origin] = (purchase, refunded + amount)
        elif kind == 3:
            del state.refundable[origin]
        if trade.effect():
            self._record(state, t)
