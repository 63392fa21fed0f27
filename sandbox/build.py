"""Builds a world from its config: customers and wallets, their activity, then the anomalies;
then the JT and Whalet worlds on the same clock."""

from __future__ import annotations

import functools
import gc
import random
from collections.abc import Callable

from sandbox import rates
from sandbox.anomalies import plant_anomalies
from sandbox.cards import CardActivity
from sandbox.config import WorldConfig
from sandbox.jt_build import build_jt
from sandbox.model import DAY, Customer, Wallet, day_start
from sandbox.simulate import CustomerSim
from sandbox.transfers import (
    Transfer,
    book_arrival,
    book_departure,
    plan_transfers,
    planted_transfers,
)
from sandbox.whalet import WhaletWorld
from sandbox.world import World, chain_order

# Share of daily events by kind; a card trade moves no wallet, an exchange moves two.
_EVENT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("deposit", 0.18),
    ("payment", 0.17),
    ("exchange", 0.14),
    ("adjustment", 0.05),
    ("open_card", 0.04),
    ("top_up", 0.10),
    ("trade", 0.30),
    ("close_card", 0.02),
)


def build_world(cfg: WorldConfig) -> World:
    """Build the world a config describes. Deterministic: same config, same world."""
    # A world is millions of small acyclic objects: the cyclic collector would rescan them
    # over and over while they are created (a third of the build time at 1M entries).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        world = _build(cfg)
    finally:
        if was_enabled:
            gc.enable()
    return world


def _build(cfg: WorldConfig) -> World:
    for ccy in cfg.currencies:
        if not rates.supported(ccy):
            raise ValueError(f"the sandbox has no reference rate for currency {ccy}")
    start = day_start(cfg.start_date)
    end = start + cfg.days * DAY
    rng = random.Random(f"{cfg.seed}:world")
    # Transfers are planned first and JT built next, so each side knows the other.
    transfers = plan_transfers(cfg, start, end)
    jt = build_jt(cfg, start, end, transfers)
    customers: list[Customer] = []
    for i in range(cfg.customers):
        customer = Customer(
            customer_id=10_001_001 + i, app_id=100_001 + i, key=f"{rng.getrandbits(128):032x}"
        )
        for ccy in cfg.currencies:
            customer.wallets[ccy] = Wallet(
                wallet_id=100_001 + len(customers) * len(cfg.currencies) + len(customer.wallets),
                wallet_sn=f"{rng.getrandbits(128):032x}",
                customer_id=customer.customer_id,
                currency=ccy,
                create_at=start - 30 * DAY + i * 3600,
            )
        mine = [tr for tr in transfers if tr.customer == i]
        _simulate(cfg, customer, start, end, mine)
        customers.append(customer)
    for customer in customers:
        for wallet in customer.wallets.values():
            chain_order(wallet)
    sides = [tr.openapi_entry for tr in transfers if tr.openapi_entry is not None]
    planted = plant_anomalies(cfg, customers, start, end, reserved=sides)
    planted += planted_transfers(transfers, customers)
    return World(cfg, customers, start, end, planted, jt, WhaletWorld(cfg, start))


def _simulate(
    cfg: WorldConfig, customer: Customer, start: int, end: int, transfers: list[Transfer]
) -> None:
    sim = CustomerSim(cfg, customer, start, end)
    cards = CardActivity(sim)
    actions: dict[str, Callable[[int], object]] = {
        "deposit": sim.deposit,
        "payment": sim.payment,
        "exchange": sim.exchange,
        "adjustment": sim.adjustment,
        "open_card": cards.open_card,
        "top_up": cards.top_up,
        "trade": cards.trade,
        "close_card": cards.close_card,
    }
    names = [name for name, _ in _EVENT_WEIGHTS]
    weights = [w for _, w in _EVENT_WEIGHTS]
    rng = sim.rng
    for k, ccy in enumerate(cfg.currencies):
        opening = 5_000_000 * rates.amount_scale(ccy)
        sim.at(start + 60 + k, functools.partial(_opening, sim, ccy, opening))
    per_day = cfg.entries_per_day * 6 // 5
    for d in range(cfg.days):
        ds = start + d * DAY
        times = sorted(rng.randrange(ds + 300, ds + DAY - 300) for _ in range(per_day))
        for t, name in zip(times, rng.choices(names, weights, k=per_day), strict=True):
            sim.at(t, actions[name])
        # The awkward cases real ledgers have, at least once per world (day 1) and then at random.
        if d == 1 or rng.random() < 0.5:
            sim.at(ds + rng.randrange(3600, DAY - 3600), sim.burst)
        if d == 1 or rng.random() < 0.3:
            sim.at(ds + rng.randrange(3600, DAY - 3600), sim.identical_pair)
        if d + 1 < cfg.days and (d == 0 or rng.random() < 0.4):
            midnight = ds + DAY
            leg2 = midnight + sim.randint(0, 2)
            sim.at(midnight - sim.randint(1, 3), functools.partial(_straddling, sim, leg2))
    for tr in transfers:
        if tr.outbound:
            book = functools.partial(book_departure, sim, tr, tr.jt_account)
            sim.at(tr.departure_at, book)
        else:
            sim.at(tr.arrival_at, functools.partial(book_arrival, sim, tr))
    sim.run()


def _opening(sim: CustomerSim, currency: str, amount: int, t: int) -> None:
    sim.deposit(t, currency, amount)


def _straddling(sim: CustomerSim, second_leg_at: int, t: int) -> None:
    """An exchange booked just before midnight whose income leg lands just after it."""
    sim.exchange(t, second_leg_at)
