"""A built world: its clock, its indexes, and the queries the endpoints answer.

Everything is generated up front; the clock `now` only decides what is visible. Ledger rows
appear at their `create_at` (so a late row shows up in an already-closed day), orders at
their `create_at`, trades at their `trade_time`, cards when their opening order completes.
Per-customer lists sorted by time with parallel key lists give every window by bisection,
so a request never rescans the world.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox import rates
from sandbox.anomalies import describe
from sandbox.model import DAY, Card, Customer, Entry, Order, Trade, Wallet, fmt_time, parse_time
from sandbox.planted import Planted

if TYPE_CHECKING:
    from sandbox.config import WorldConfig
    from sandbox.jt import JtWorld
    from sandbox.whalet import WhaletWorld

PROVIDERS = ("openapi", "jt", "whalet")


def chain_order(wallet: Wallet) -> None:
    """Order a wallet's chain (time, creation, booking order) and derive its balances."""
    wallet.entries.sort(key=lambda e: (e.transaction_time, e.create_at, e.seq))
    balance = 0
    for e in wallet.entries:
        e.before = balance
        balance += e.signed_amount()
        e.after = balance
    wallet.chain_times = [e.transaction_time for e in wallet.entries]


class _CustomerIndex:
    def __init__(self, c: Customer) -> None:
        # Ascending by time; equal times in an arbitrary but fixed order (the `tie` draw), so
        # API order within a second says nothing about booking order, as with the provider.
        self.entries = sorted(c.entries, key=lambda e: (e.transaction_time, e.tie))
        self.entry_times = [e.transaction_time for e in self.entries]
        self.orders = sorted(c.orders, key=lambda o: (o.create_at, o.order_id))
        self.order_times = [o.create_at for o in self.orders]
        self.trades = sorted(c.trades, key=lambda t: (t.trade_time, t.tie))
        self.trade_times = [t.trade_time for t in self.trades]
        self.by_transaction: dict[str, list[Entry]] = defaultdict(list)
        for e in c.entries:
            self.by_transaction[e.transaction_id].append(e)
        self.orders_by_id = {o.order_id: o for o in c.orders}
        self.cards_by_id = {k.card_id: k for k in c.cards}


class World:
    """The sandbox world: OPEN-API customers, JT users (`jt`) and Whalet balances (`whalet`)
    on one clock. Set `now` (or call `advance`) to move it."""

    def __init__(
        self,
        cfg: WorldConfig,
        customers: list[Customer],
        start: int,
        end: int,
        planted: list[Planted],
        jt: JtWorld,
        whalet: WhaletWorld,
    ) -> None:
        self.cfg = cfg
        self.customers = customers
        self.jt = jt
        self.whalet = whalet
        self.start = start
        self.end = end
        self.now = end
        self.planted = planted
        for c in customers:
            for w in c.wallets.values():
                chain_order(w)
        self._index = {c.customer_id: _CustomerIndex(c) for c in customers}
        self._by_id = {c.customer_id: c for c in customers}

    def set_now(self, when: int | str | datetime) -> None:
        if isinstance(when, datetime):
            when = parse_time(when.strftime("%Y-%m-%d %H:%M:%S"))
        elif isinstance(when, str):
            when = parse_time(when)
        self.now = when

    def advance(self, seconds: int = DAY) -> None:
        self.now += seconds

    @property
    def now_text(self) -> str:
        return fmt_time(self.now)

    def authenticate(self, customer_id: Any, app_id: Any, key: Any) -> Customer | None:
        c = self._by_id.get(customer_id) if isinstance(customer_id, int) else None
        if c is None or c.app_id != app_id or c.key != key:
            return None
        return c

    def wallet_balance(self, wallet: Wallet, reported: bool = True) -> int:
        """The wallet's available balance at `now` (as reported, anomalies included)."""
        i = bisect_right(wallet.chain_times, self.now)
        balance = wallet.entries[i - 1].after if i else 0
        return balance + (wallet.balance_delta if reported else 0)

    def _span(self, times: list[int], start: int | None, end: int | None) -> slice:
        """Index range of [start, end) in ascending `times`, cut at `now`."""
        lo = 0 if start is None else bisect_left(times, start)
        hi = bisect_right(times, self.now)
        if end is not None:
            hi = min(hi, bisect_left(times, end))
        return slice(lo, hi)

    def entries(self, c: Customer, start: int | None, end: int | None) -> list[Entry]:
        """Visible ledger rows with start <= transaction_time < end, newest first."""
        idx = self._index[c.customer_id]
        rows = idx.entries[self._span(idx.entry_times, start, end)]
        now = self.now
        return [e for e in reversed(rows) if e.create_at <= now and not e.hidden]

    def transaction(self, c: Customer, transaction_id: str) -> list[Entry]:
        now = self.now
        rows = self._index[c.customer_id].by_transaction.get(transaction_id, [])
        return [e for e in rows if e.create_at <= now and not e.hidden]

    def orders(self, c: Customer, start: int | None, end: int | None) -> list[Order]:
        idx = self._index[c.customer_id]
        return list(reversed(idx.orders[self._span(idx.order_times, start, end)]))

    def order(self, c: Customer, order_id: str) -> Order | None:
        o = self._index[c.customer_id].orders_by_id.get(order_id)
        return o if o is not None and o.create_at <= self.now else None

    def trades(self, c: Customer, start: int | None, end: int | None) -> list[Trade]:
        idx = self._index[c.customer_id]
        return list(reversed(idx.trades[self._span(idx.trade_times, start, end)]))

    def cards(self, c: Customer) -> list[Card]:
        """Cards that exist at `now`, newest first."""
        visible = [k for k in c.cards if k.created_at <= self.now]
        return sorted(visible, key=lambda k: (k.created_at, k.card_id), reverse=True)

    def card(self, c: Customer, card_id: str) -> Card | None:
        k = self._index[c.customer_id].cards_by_id.get(card_id)
        return k if k is not None and k.created_at <= self.now else None

    def card_state(self, card: Card, reported: bool = True) -> tuple[int, int]:
        """(balance, limit) of a card at `now`."""
        i = bisect_right(card.history_times, self.now)
        _, balance, limit = card.history[i - 1] if i else (0, 0, 0)
        if reported:
            return balance + card.balance_delta, limit + card.limit_delta
        return balance, limit

    def reference_rate_e8(self, from_ccy: str, to_ccy: str) -> int:
        return rates.reference_rate_e8(from_ccy, to_ccy, self.now, self.cfg.currencies)

    def manifest(self) -> dict[str, Any]:
        """Ground truth of the planted anomalies of every provider, as of the world's end."""
        saved, self.now = self.now, self.end
        try:
            rows = []
            for p in self.planted:
                balance = self.wallet_balance(p.wallet, reported=False) if p.wallet else None
                rows.append(describe(p, balance))
        finally:
            self.now = saved
        rows += self.jt.manifest_rows(self.end) + self.whalet.manifest_rows()
        rows.sort(key=lambda r: (r["provider"], r["check_name"], r["account_id"], r["entity_id"]))
        planted = {
            "openapi": self.cfg.anomalies,
            "jt": self.cfg.jt.anomalies,
            "whalet": self.cfg.whalet.anomalies,
        }
        counts = {p: {k: v for k, v in sorted(planted[p].items()) if v} for p in PROVIDERS}
        return {
            "providers": list(PROVIDERS),
            "seed": self.cfg.seed,
            "config": self.cfg.to_json(),
            "world_start": fmt_time(self.start),
            "world_end": fmt_time(self.end),
            "counts": counts,
            "anomalies": rows,
        }

    def manifest_json(self) -> str:
        return json.dumps(self.manifest(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    def credentials(self) -> list[dict[str, Any]]:
        return [
            {"customer_id": c.customer_id, "app_id": c.app_id, "key": c.key} for c in self.customers
        ]
