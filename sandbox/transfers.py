"""Transfers between the company's OPEN-API wallet and its JT wallets (providers.md §4).

A transfer is planned up front, before either provider's world is built, so both sides agree:
outbound, an OPEN-API payment (5010, `attach` with `transfer_ref` and the JT destination,
`amount` = pay-out + fee) approved minutes later and credited to the JT user (`mchOrderId` =
the reference, `TOP_UP`) for its pay-out within half an hour of approval; inbound, a JT
`WITHDRAW` debit (no fee) that arrives as an OPEN-API deposit (1010, remark `TRANSFER <ref>`)
for the same amount within half an hour. Both ledgers are in JT's currency. A side short of
funds is topped up in the same second first, so no chain goes negative and no transfer is
skipped. Planted anomalies are outbound transfers whose JT credit never comes
(`transfer_unmatched`) or comes for another amount (`transfer_amount_mismatch`); the JT
credit, when booked, is a real record, so the JT chain still links. Whalet reports balances
only and its balances are fixed for the whole world, so no transfer touches it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox import rates
from sandbox.config import TRANSFER_KINDS, WorldConfig
from sandbox.model import APPROVED, DAY, EXPENSE, INCOME, Customer, Entry, money
from sandbox.planted import MARGIN, Planted
from sandbox.simulate import CustomerSim

ARRIVAL_WITHIN = 1800  # seconds after approval (or the JT debit): inside the grace period


@dataclass(slots=True, eq=False)
class Transfer:
    ref: str
    outbound: bool  # OPEN-API -> JT; otherwise JT -> OPEN-API
    customer: int  # index of the OPEN-API customer
    user: int  # index of the JT user
    departure_at: int
    approve_at: int  # outbound: when the payment is approved (it leaves then)
    arrival_at: int
    amount: int  # what left, minor units
    fee: int  # outbound only: fee_detail.fee
    arrival_amount: int | None  # what arrived; None: never (planted)
    kind: str = ""  # the planted check_name, or "" for a clean transfer
    jt_account: str = ""  # the JT user's mchUuid (set when the JT world is built)
    departure: Entry | None = None  # the OPEN-API payment (outbound)
    arrival: Entry | None = None  # the OPEN-API deposit (inbound)
    jt_record: Any = None  # the JT record of this side (sandbox.jt.JtRecord)

    @property
    def openapi_entry(self) -> Entry | None:
        return self.departure if self.outbound else self.arrival


class _Planner:
    def __init__(self, cfg: WorldConfig, start: int, end: int) -> None:
        self.cfg, self.start, self.end = cfg, start, end
        self.rng = random.Random(f"{cfg.seed}:transfers")
        self.scale = rates.amount_scale(cfg.jt.currency)
        self.refs: set[str] = set()

    def ref(self) -> str:
        while True:
            ref = f"TRF{self.rng.getrandbits(64):016X}"
            if ref not in self.refs:
                self.refs.add(ref)
                return ref

    def transfer(self, t: int, outbound: bool, kind: str = "") -> Transfer:
        rng = self.rng
        amount = rng.randint(5_000, 200_000) * self.scale
        fee = rng.choice((0, 1_500, 2_500)) * self.scale if outbound else 0
        approve_at = t + rng.randint(60, 300) if outbound else t
        arrival = amount - fee
        if kind == "transfer_amount_mismatch":
            # Never the whole arrival: a credit stays positive in any currency's scale.
            delta = rng.randint(100, min(10_000, arrival - 1))
            # Short of what should arrive, or more than ever left.
            arrival = arrival - delta if rng.random() < 0.5 else amount + delta
        return Transfer(
            ref=self.ref(),
            outbound=outbound,
            customer=rng.randrange(self.cfg.customers),
            user=rng.randrange(self.cfg.jt.users),
            departure_at=t,
            approve_at=approve_at,
            arrival_at=approve_at + rng.randint(60, ARRIVAL_WITHIN),
            amount=amount,
            fee=fee,
            arrival_amount=None if kind == "transfer_unmatched" else arrival,
            kind=kind,
        )

    def plan(self) -> list[Transfer]:
        rng, out = self.rng, []
        # Every side lands before the world ends, with the grace period to spare.
        lo, hi = self.start + 3600, self.end - 2 * 3600
        for d in range(self.cfg.days):
            ds = self.start + d * DAY
            first, last = max(lo, ds + 600), min(hi, ds + DAY - 600)
            for _ in range(self.cfg.transfers_per_day if first < last else 0):
                out.append(self.transfer(rng.randrange(first, last), rng.random() < 0.5))
        for kind in TRANSFER_KINDS:
            for _ in range(self.cfg.anomalies.get(kind, 0)):
                t = rng.randrange(self.start + MARGIN, self.end - MARGIN - 3600)
                out.append(self.transfer(t, True, kind))
        return out


def plan_transfers(cfg: WorldConfig, start: int, end: int) -> list[Transfer]:
    """The transfers of a world, clean and planted. Deterministic: same config, same plan."""
    return _Planner(cfg, start, end).plan()


def book_departure(sim: CustomerSim, tr: Transfer, mch_uuid: str, t: int) -> None:
    """The OPEN-API payment of an outbound transfer (a sim action at its departure time)."""
    ccy = sim.cfg.jt.currency
    if sim.balance[ccy] < tr.amount:
        sim.deposit(t, ccy, tr.amount)
    payment_id = f"pm_{sim.token()}"
    attach = {
        "customer_id": sim.c.customer_id,
        "app_id": sim.c.app_id,
        "wallet_sn": sim.c.wallets[ccy].wallet_sn,
        "pay_out_amount": money(tr.amount - tr.fee),
        "pay_out_currency": ccy,
        "fee_detail": {"fee": money(tr.fee), "pay_method": "LOCAL", "fee_mode": "OUR"},
        "payment_id": payment_id,
        "transfer_ref": tr.ref,
        "destination": {"provider": "jt", "account": mch_uuid},
    }
    e = sim.entry(
        t,
        5010,
        EXPENSE,
        tr.amount,
        ccy,
        record_id=payment_id,
        out_id=f"pm_{sim.token()}",
        attach=attach,
        status_final=APPROVED,
        status_at=tr.approve_at,
        approve_type=20,
        create_at=t,
    )
    sim.post(e)
    tr.departure = e


def book_arrival(sim: CustomerSim, tr: Transfer, t: int) -> None:
    """The OPEN-API deposit of an inbound transfer (a sim action at its arrival time)."""
    assert tr.arrival_amount is not None
    ccy = sim.cfg.jt.currency
    e = sim.entry(t, 1010, INCOME, tr.arrival_amount, ccy, out_id=f"dp_{sim.token()}", create_at=t)
    e.remark = f"TRANSFER {tr.ref}"
    sim.post(e)
    tr.arrival = e


def planted_transfers(transfers: list[Transfer], customers: list[Customer]) -> list[Planted]:
    """The manifest's view of the planted transfers (after both worlds are built)."""
    out = []
    for tr in transfers:
        if not tr.kind:
            continue
        assert tr.departure is not None
        c = customers[tr.customer]
        p = Planted(tr.kind, c, "transfer", tr.ref, tr.departure.currency, [tr.departure])
        p.info["transfer"] = tr
        out.append(p)
    return out


def describe_transfer(p: Planted, row: dict[str, Any]) -> tuple[int, int]:
    """Fills the manifest row of a planted transfer; returns (expected, actual) in minor units:
    what should have arrived at JT, and what did (0 when nothing)."""
    tr: Transfer = p.info["transfer"]
    row["transfer_ref"] = tr.ref
    row["destination"] = {"provider": "jt", "account": tr.jt_account}
    if tr.jt_record is not None:
        row["transaction_ids"] = [*row["transaction_ids"], tr.jt_record.balance_ref_no]
    if tr.arrival_amount is None:
        row["detail"] = "a payment to JT was never credited at JT"
    else:
        row["detail"] = "the JT credit differs from the payment less its fee"
    return tr.amount - tr.fee, tr.arrival_amount or 0
