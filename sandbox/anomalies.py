"""Plants provider-side inconsistencies, each breaking exactly one rule of reconciliation.md §2.

Every anomaly is built so that the planted entity violates its own rule and nothing else does:
a wrong `amount` leaves the chain linked (only `entry_arithmetic` fails); a missing ledger row
stays in the provider's balance (only `chain_gap`); a missing exchange leg or order debit was
never booked, so its wallet chain still links; and so on. Targets are chosen away from the
world's edges (outside the grace period) and away from each other, so findings never overlap.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sandbox import rates
from sandbox.anomalies_money import MONEY_KINDS, TradePaymentPlanter, describe_money
from sandbox.anomalies_states import STATE_KINDS, StatePlanter, describe_state
from sandbox.config import ANOMALY_KINDS, TRANSFER_KINDS, WorldConfig
from sandbox.model import Customer, Entry, Wallet, money, rate_num
from sandbox.planted import Planted
from sandbox.transfers import describe_transfer


class _Planter(TradePaymentPlanter, StatePlanter):
    def _standalone(self, types: tuple[int, ...]) -> list[tuple[Customer, Wallet, int]]:
        """Entries alone in their second, booked on time, away from the edges."""
        out = []
        for c in self.customers:
            for w in c.wallets.values():
                es = w.entries
                for i, e in enumerate(es):
                    if (
                        e.transaction_type in types
                        and self.lo <= e.transaction_time < self.hi
                        and e.create_at - e.transaction_time <= 1
                        and self._alone(es, i)
                        and self._free(e)
                    ):
                        out.append((c, w, i))
        return out

    @staticmethod
    def _alone(es: list[Entry], i: int) -> bool:
        t = es[i].transaction_time
        before = i == 0 or es[i - 1].transaction_time != t
        after = i == len(es) - 1 or es[i + 1].transaction_time != t
        return before and after

    def entry_arithmetic(self, n: int) -> None:
        for c, w, i in self.pick("entry_arithmetic", self._standalone((1010, 9010)), n):
            e = w.entries[i]
            delta = self.rng.randint(1, max(1, e.amount // 2))
            e.served_amount = e.amount + delta if self.rng.random() < 0.5 else e.amount - delta
            if e.served_amount <= 0:
                e.served_amount = e.amount + delta
            self._take(e)
            self.planted.append(
                Planted("entry_arithmetic", c, "entry", e.transaction_id, e.currency, [e])
            )

    def chain_gap(self, n: int) -> None:
        cands = [
            (c, w, i)
            for c, w, i in self._standalone((1010, 9010))
            if 0 < i < len(w.entries) - 1
            and self._alone(w.entries, i - 1)
            and self._alone(w.entries, i + 1)
            and self._free(w.entries[i - 1], w.entries[i + 1])
        ]
        chosen: list[tuple[Customer, Wallet, int]] = []
        for c, w, i in self.rng.sample(cands, len(cands)):
            trio = w.entries[i - 1 : i + 2]
            if len(chosen) < n and self._free(*trio):
                self._take(*trio)
                chosen.append((c, w, i))
        if len(chosen) < n:
            self.pick("chain_gap", chosen, n)  # raises with the standard message
        for c, w, i in chosen:
            e = w.entries[i]
            e.hidden = True
            self.planted.append(
                Planted(
                    "chain_gap",
                    c,
                    "wallet",
                    f"{c.customer_id}:{w.currency}",
                    w.currency,
                    [w.entries[i - 1], e, w.entries[i + 1]],
                    wallet=w,
                )
            )

    def duplicate_entry(self, n: int) -> None:
        for c, w, i in self.pick("duplicate_entry", self._standalone((1010,)), n):
            orig = w.entries[i]
            t = min(orig.transaction_time + self.rng.randint(5, 900), self.hi)
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(t))
            dup = replace(
                orig,
                seq=max(e.seq for e in c.entries) + 1,
                transaction_id=f"{orig.transaction_id[:4]}{stamp}{c.customer_id:012d}"
                f"{self.rng.getrandbits(64):016x}",
                transaction_time=t,
                create_at=t + 1,
                tie=self.rng.getrandbits(32),
            )
            c.entries.append(dup)
            w.entries.append(dup)
            self._take(orig, dup)
            self.planted.append(
                Planted("duplicate_entry", c, "entry", dup.transaction_id, w.currency, [orig, dup])
            )

    def wallet_balance_mismatch(self, n: int) -> None:
        wallets = [(c, w) for c in self.customers for w in c.wallets.values() if self._free(w)]
        for c, w in self.pick("wallet_balance_mismatch", wallets, n):
            w.balance_delta = self.rng.choice((-1, 1)) * self.rng.randint(100, 100_000)
            self._take(w)
            self.planted.append(
                Planted(
                    "wallet_balance_mismatch",
                    c,
                    "wallet",
                    f"{c.customer_id}:{w.currency}",
                    w.currency,
                    wallet=w,
                )
            )

    def _exchanges(self) -> list[tuple[Customer, list[Entry]]]:
        return [
            (c, legs)
            for c in self.customers
            for legs in c.exchanges.values()
            if all(self.lo <= e.transaction_time < self.hi for e in legs)
            and legs[0].transaction_time // 86_400 == legs[1].transaction_time // 86_400
            and self._free(*legs)
        ]

    def fx(self, kind: str, n: int) -> None:
        for c, legs in self.pick(kind, self._exchanges(), n):
            expense, income = legs
            self._take(*legs)
            p = Planted(kind, c, "exchange", expense.transaction_id, income.currency, list(legs))
            if kind == "fx_missing_leg":
                c.entries.remove(income)
                c.wallets[income.currency].entries.remove(income)
                p.entries = [expense]
                p.info["missing"] = income
            elif kind == "fx_amount_mismatch":
                p.info["expected"] = income.amount
                delta = self.rng.randint(5, 500)
                income.amount += delta if self.rng.random() < 0.5 else -delta
            else:
                assert expense.attach is not None
                reference = rates.reference_rate_e8(
                    expense.currency,
                    income.currency,
                    expense.transaction_time,
                    self.cfg.currencies,
                )
                bps = self.rng.choice((-1, 1)) * self.rng.randint(80, 200)
                applied = rates.shift_bps(reference, bps)
                income.amount = rates.convert_cents(expense.amount, applied)
                expense.attach["exchange_rate"] = rate_num(applied)
                expense.attach["buy_amount"] = money(income.amount)
                p.info.update(reference=reference, applied=applied)
            self.planted.append(p)

    def order_debits(self, kind: str, n: int) -> None:
        cands = []
        for c in self.customers:
            debits = {e.record_id: e for e in c.entries if e.transaction_type in (4010, 4020)}
            for o in c.orders:
                d = debits.get(o.order_id)
                if (
                    d is not None
                    and self.lo <= d.transaction_time < self.hi
                    and (kind == "order_debit_missing" or o.fee > 0)
                    and self._free(o, d)
                ):
                    cands.append((c, o, d))
        for c, o, d in self.pick(kind, cands, n):
            self._take(o, d)
            p = Planted(kind, c, "order", o.order_id, o.currency, [d], order=o)
            if kind == "order_debit_missing":
                c.entries.remove(d)
                c.wallets[d.currency].entries.remove(d)
            else:
                d.amount = o.amount  # the debit forgot the fee
            self.planted.append(p)

    def card_balance_mismatch(self, n: int) -> None:
        # A closed card reporting money is closed_card_balance's finding, not this one's.
        cards = [
            (c, k)
            for c in self.customers
            for k in c.cards
            if k.created_at < self.hi and k.end_at is None
        ]
        for j, (c, k) in enumerate(self.pick("card_balance_mismatch", cards, n)):
            delta = self.rng.randint(100, 10_000)
            field_name = "balance" if j % 2 == 0 else "limit"
            if field_name == "balance":
                k.balance_delta = delta
            else:
                k.limit_delta = delta
            self._take(k)
            self.planted.append(
                Planted(
                    "card_balance_mismatch",
                    c,
                    "card",
                    k.card_id,
                    k.currency,
                    card=k,
                    info={"field": field_name},
                )
            )


def plant_anomalies(
    cfg: WorldConfig,
    customers: list[Customer],
    start: int,
    end: int,
    reserved: Iterable[Entry] = (),
) -> list[Planted]:
    """Plants every OPEN-API kind but the transfers (planned with them, sandbox.transfers),
    never on a `reserved` entry (a transfer's side: changing it would break two rules)."""
    planter = _Planter(cfg, customers, start, end)
    planter._take(*reserved)
    for kind in ANOMALY_KINDS:
        n = cfg.anomalies.get(kind, 0)
        if n == 0 or kind in TRANSFER_KINDS:
            continue
        if kind.startswith("fx_"):
            planter.fx(kind, n)
        elif kind.startswith("order_"):
            planter.order_debits(kind, n)
        else:
            getattr(planter, kind)(n)
    return planter.planted


def describe(p: Planted, wallet_balance: int | None = None) -> dict[str, Any]:
    """The manifest row of a planted anomaly (balances must be final). Money is decimal text."""
    row: dict[str, Any] = {
        "check_name": p.check_name,
        "provider": "openapi",
        "account_id": str(p.customer.customer_id),
        "customer_id": p.customer.customer_id,
        "entity_type": p.entity_type,
        "entity_id": p.entity_id,
        "currency": p.currency,
        "transaction_ids": [e.transaction_id for e in p.entries],
        "expected": None,
        "actual": None,
        "difference": None,
    }
    expected: int | None = None
    actual: int | None = None
    if p.check_name == "entry_arithmetic":
        (e,) = p.entries
        assert e.served_amount is not None
        expected, actual = e.amount, e.served_amount
        row["detail"] = f"amount {money(actual)} but the balance moved by {money(expected)}"
    elif p.check_name == "chain_gap":
        prev, missing, nxt = p.entries
        expected, actual = prev.after, nxt.before
        row["transaction_ids"] = [prev.transaction_id, nxt.transaction_id]
        row["missing_transaction_id"] = missing.transaction_id
        row["detail"] = f"entry {missing.transaction_id} is missing from the ledger"
    elif p.check_name == "duplicate_entry":
        row["detail"] = "the same deposit was booked twice under two transaction ids"
    elif p.check_name == "wallet_balance_mismatch":
        assert p.wallet is not None and wallet_balance is not None
        expected, actual = wallet_balance, wallet_balance + p.wallet.balance_delta
        row["detail"] = "reported available_balance differs from the ledger"
    elif p.check_name == "fx_missing_leg":
        missing = p.info["missing"]
        row["currency"] = missing.currency
        row["missing_leg"] = {"in_out_type": missing.in_out_type, "currency": missing.currency}
        row["detail"] = f"the {missing.currency} income leg was never booked"
    elif p.check_name == "fx_amount_mismatch":
        expected, actual = p.info["expected"], p.entries[1].amount
        row["detail"] = "income leg differs from sell amount x applied rate"
    elif p.check_name == "fx_rate_deviation":
        ref, applied = p.info["reference"], p.info["applied"]
        row.update(expected=rate_num(ref), actual=rate_num(applied))
        row["difference"] = (
            rate_num(applied - ref) if applied >= ref else "-" + rate_num(ref - applied)
        )
        row["deviation_bps"] = round((applied - ref) * 10_000 / ref)
        row["detail"] = "applied rate is far from the reference rate"
    elif p.check_name in ("order_debit_missing", "order_debit_mismatch"):
        assert p.order is not None
        expected = p.order.total_amount
        if p.check_name == "order_debit_missing":
            row["missing_transaction_id"] = p.entries[0].transaction_id
            row["transaction_ids"] = []
            row["detail"] = "successful order has no wallet debit"
        else:
            actual = p.entries[0].amount
            row["detail"] = "wallet debit omits the order fee"
    elif p.check_name == "card_balance_mismatch":
        assert p.card is not None
        _, balance, limit = p.card.history[-1]
        if p.info["field"] == "balance":
            expected, actual = balance, balance + p.card.balance_delta
        else:
            expected, actual = limit, limit + p.card.limit_delta
        row["field"] = p.info["field"]
        row["detail"] = f"reported card {p.info['field']} differs from orders and trades"
    elif p.check_name in MONEY_KINDS:
        expected, actual = describe_money(p, row)
    elif p.check_name in STATE_KINDS:
        expected, actual = describe_state(p, row)
    elif p.check_name in TRANSFER_KINDS:
        expected, actual = describe_transfer(p, row)
    if expected is not None:
        row["expected"] = money(expected)
    if actual is not None:
        row["actual"] = money(actual)
    if expected is not None and actual is not None:
        row["difference"] = money(actual - expected)
    return row
