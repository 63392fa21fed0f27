"""Builds the JT world of a config: users, their balance records, then the planted anomalies.

Each anomaly breaks one rule for the entity the manifest names and nothing else: a hidden
record leaves every served balance as booked (only its chain gaps), a wrong `amount` leaves
the balances right (only `entry_arithmetic`), a shifted `balance` moves `baseBalance` with it
(only the chain end differs), a shifted `baseBalance` alone breaks only the composition.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from sandbox.config import JT_ANOMALY_KINDS, WorldConfig
from sandbox.jt import CREDIT, DEBIT, JtPlanted, JtRecord, JtUser, JtWorld, cod_share
from sandbox.model import DAY
from sandbox.planted import MARGIN
from sandbox.transfers import Transfer

# businessType -> (type, weight, amount range in satang); ADJUSTMENT goes either way.
_BUSINESS: dict[str, tuple[str, float, int, int]] = {
    "COD_SETTLEMENT": (CREDIT, 0.35, 5_000, 2_000_000),
    "TOP_UP": (CREDIT, 0.15, 10_000, 1_000_000),
    "WITHDRAW": (DEBIT, 0.20, 10_000, 1_500_000),
    "FEE": (DEBIT, 0.15, 100, 5_000),
    "ADJUSTMENT": (CREDIT, 0.15, 100, 100_000),
}
_KYC = ("Approved", "Pending", "Approved", "Rejected", "Unsubmitted")
_AUTHORIZATION = ("Authorized", "Authorized", "Unauthorized")
_MOBILE = ("Verified", "Verified", "Verified", "Unverified")


class _Gen:
    def __init__(self, cfg: WorldConfig, start: int, end: int) -> None:
        self.rng = random.Random(f"{cfg.seed}:jt")
        self.cfg, self.start, self.end = cfg, start, end
        self.seq = 0
        self.ref_nos: set[str] = set()
        # (time, booking sequence, user index, businessType or "" for a random one, amount)
        self.events: list[tuple[int, int, int, str, int]] = []
        # booking sequence -> the transfer whose JT side that event books
        self.transfers: dict[int, Transfer] = {}

    def at(self, t: int, user: int, business: str = "", amount: int = 0) -> None:
        if t < self.end:
            self.seq += 1
            self.events.append((t, self.seq, user, business, amount))

    def transfer_sides(self, transfers: Sequence[Transfer]) -> None:
        """Each transfer's JT side: the credit of an outbound one (unless it never arrives),
        the debit of an inbound one."""
        for tr in transfers:
            if tr.outbound and tr.arrival_amount is not None:
                self.at(tr.arrival_at, tr.user, "TOP_UP", tr.arrival_amount)
            elif not tr.outbound:
                self.at(tr.departure_at, tr.user, "WITHDRAW", tr.amount)
            else:
                continue
            self.transfers[self.seq] = tr

    def users(self) -> list[JtUser]:
        rng = self.rng
        mch, uid = rng.randrange(10**18, 9 * 10**18), rng.randrange(10**18, 9 * 10**18)
        out = []
        for i in range(self.cfg.jt.users):
            unclear = rng.randrange(0, 1_000) * 100
            out.append(
                JtUser(
                    mch_uuid=f"JT{mch + i:019d}",
                    uuid=f"U{uid + i:019d}",
                    center_no=f"A{1 + i % 3:06d}",
                    branch_no=f"A{1 + i:06d}",
                    create_time=self.start - 30 * DAY + i * 7 * 3600 + rng.randrange(3600),
                    kyc_status=_KYC[i % len(_KYC)],
                    authorization_status=_AUTHORIZATION[i % len(_AUTHORIZATION)],
                    mobile_verification_status=_MOBILE[i % len(_MOBILE)],
                    cod_enable_status="Enable" if i % 4 != 3 else "Disable",
                    user_status="Active",
                    withdraw_threshold=rng.choice((0, 10_000, 20_000, 50_000)),
                    unclear_bill_amount=unclear,
                    unclear_bill_amount_due=unclear * rng.randrange(0, 101) // 100,
                )
            )
        return out

    def schedule(self) -> None:
        rng, n_users = self.rng, self.cfg.jt.users
        for k in range(n_users):
            self.at(self.start + 60 + k, k, "TOP_UP", rng.randint(2_000_000, 10_000_000))
        for d in range(self.cfg.days):
            ds = self.start + d * DAY
            per_day = self.cfg.jt.records_per_day
            for t in sorted(rng.randrange(ds + 300, ds + DAY - 300) for _ in range(per_day)):
                self.at(t, rng.randrange(n_users))
            # A same-second burst, linked by balances: at least once per world, then at random.
            if d == 1 or rng.random() < 0.5:
                t, user = ds + rng.randrange(3600, DAY - 3600), rng.randrange(n_users)
                for _ in range(rng.randint(3, 5)):
                    self.at(t, user)

    def records(self, users: list[JtUser]) -> None:
        rng = self.rng
        names = list(_BUSINESS)
        weights = [w for _, w, _, _ in _BUSINESS.values()]
        balances = [0] * len(users)
        for t, seq, k, business, amount in sorted(self.events):
            transfer = self.transfers.get(seq)
            if not business:
                business = rng.choices(names, weights)[0]
            kind, _, low, high = _BUSINESS[business]
            amount = amount or rng.randint(low, high)
            if business == "ADJUSTMENT" and rng.random() < 0.5:
                kind = DEBIT
            if kind == DEBIT and balances[k] < amount:
                if transfer is None:
                    business, kind = "TOP_UP", CREDIT  # never overdraw: the user tops up instead
                else:
                    # A transfer leaves whole: the user tops up first, in the same second.
                    self.record(users[k], CREDIT, "TOP_UP", amount, t, seq)
                    balances[k] += amount
            balances[k] += amount if kind == CREDIT else -amount
            record = self.record(users[k], kind, business, amount, t, seq, transfer)
            if transfer is not None:
                transfer.jt_record, transfer.jt_account = record, record.mch_uuid

    def record(
        self,
        u: JtUser,
        kind: str,
        business: str,
        amount: int,
        t: int,
        seq: int,
        transfer: Transfer | None = None,
    ) -> JtRecord:
        ref_no = self.ref_no()
        order_id = f"MO{self.rng.getrandbits(64):016X}"
        r = JtRecord(
            balance_ref_no=ref_no,
            mch_uuid=u.mch_uuid,
            uuid=u.uuid,
            type=kind,
            business_type=business,
            amount=amount,
            create_time=t,
            mch_order_id=order_id if transfer is None else transfer.ref,
            seq=seq,
            tie=self.rng.getrandbits(32),
        )
        u.records.append(r)
        return r

    def ref_no(self) -> str:
        while True:
            ref = f"BR{self.rng.randrange(10**17, 10**18)}"
            if ref not in self.ref_nos:
                self.ref_nos.add(ref)
                return ref


def build_jt(cfg: WorldConfig, start: int, end: int, transfers: Sequence[Transfer] = ()) -> JtWorld:
    """The JT world of a config over [start, end), with the JT side of each transfer.
    Deterministic: same config, same world."""
    gen = _Gen(cfg, start, end)
    app_id = f"{gen.rng.getrandbits(128):032x}"
    users = gen.users()
    gen.schedule()
    gen.transfer_sides(transfers)
    gen.records(users)
    for u in users:
        u.link()
    planter = _Planter(cfg, users, start, end)
    # Anomalies of its own never touch a transfer's record: that would be two findings.
    planter._take(*(tr.jt_record for tr in transfers if tr.jt_record is not None))
    for tr in transfers:
        tr.jt_account = tr.jt_account or users[tr.user].mch_uuid
    for kind in JT_ANOMALY_KINDS:
        n = cfg.jt.anomalies.get(kind, 0)
        if n:
            getattr(planter, kind)(n)
    return JtWorld(app_id, cfg.jt.currency, users, planter.planted, planter.totals_delta)


class _Planter:
    def __init__(self, cfg: WorldConfig, users: list[JtUser], start: int, end: int) -> None:
        self.rng = random.Random(f"{cfg.seed}:jt:anomalies")
        self.users = users
        self.end = end
        self.lo, self.hi = start + MARGIN, end - MARGIN
        self.used: set[int] = set()
        self.planted: list[JtPlanted] = []
        self.totals_delta = 0

    def _free(self, *objs: object) -> bool:
        return all(id(o) not in self.used for o in objs)

    def _take(self, *objs: object) -> None:
        self.used.update(id(o) for o in objs)

    def _delta(self, room: int) -> int:
        """A nonzero shift that leaves `room + shift` non-negative."""
        delta = self.rng.choice((-1, 1)) * self.rng.randint(100, 100_000)
        return -delta if room + delta < 0 else delta

    def _pick_user(self, kind: str) -> JtUser:
        free = [u for u in self.users if self._free(u)]
        if not free:
            raise ValueError(
                f"cannot plant JT {kind}: every one of the {len(self.users)} users already has "
                "a user-level anomaly; raise jt.users or plant fewer"
            )
        user: JtUser = self.rng.choice(free)
        self._take(user)
        return user

    def _standalone(self, u: JtUser) -> list[int]:
        """Indexes of records alone in their second, away from the world's edges, unused."""
        rs = u.records
        return [
            i
            for i, r in enumerate(rs)
            if self.lo <= r.create_time < self.hi
            and (i == 0 or rs[i - 1].create_time != r.create_time)
            and (i == len(rs) - 1 or rs[i + 1].create_time != r.create_time)
            and self._free(r)
        ]

    def _too_few(self, kind: str, n: int, found: int) -> ValueError:
        return ValueError(
            f"cannot plant {n} x JT {kind}: only {found} eligible targets; "
            "raise jt.records_per_day, jt.users or days, or plant fewer"
        )

    def jt_balance_composition(self, n: int) -> None:
        if n > 3:
            # Odd plantings are the totals variant, and a response has one totalBalance.
            raise ValueError(
                f"cannot plant {n} x JT jt_balance_composition: at most 3 (two users and the "
                "totals, which a response has only one of)"
            )
        for j in range(n):
            if j % 2 == 0:
                u = self._pick_user("jt_balance_composition")
                chain = u.records[-1].after
                u.base_delta = self._delta(chain - cod_share(chain))
                self.planted.append(JtPlanted("jt_balance_composition", "user", u.mch_uuid, user=u))
            else:
                self.totals_delta = self._delta(10**9)
                self.planted.append(
                    JtPlanted("jt_balance_composition", "user_totals", "totalBalance")
                )

    def chain_gap(self, n: int) -> None:
        chosen: list[tuple[JtUser, int]] = []
        # One gap per user at most: the manifest names a gap by its wallet (the user).
        for u in self.rng.sample(self.users, len(self.users)):
            alone = set(self._standalone(u))
            cands = [i for i in sorted(alone) if i - 1 in alone and i + 1 in alone and i > 0]
            if cands and len(chosen) < n:
                chosen.append((u, self.rng.choice(cands)))
        if len(chosen) < n:
            raise self._too_few("chain_gap", n, len(chosen))
        for u, i in chosen:
            trio = u.records[i - 1 : i + 2]
            self._take(*trio)
            trio[1].hidden = True
            self.planted.append(JtPlanted("chain_gap", "wallet", u.mch_uuid, records=trio))

    def entry_arithmetic(self, n: int) -> None:
        cands = [(u, i) for u in self.users for i in self._standalone(u)]
        if len(cands) < n:
            raise self._too_few("entry_arithmetic", n, len(cands))
        for u, i in self.rng.sample(cands, n):
            r = u.records[i]
            delta = self.rng.randint(1, max(1, r.amount // 2))
            served = r.amount + delta if self.rng.random() < 0.5 else r.amount - delta
            r.served_amount = served if served > 0 else r.amount + delta
            self._take(r)
            self.planted.append(JtPlanted("entry_arithmetic", "entry", r.balance_ref_no, [r]))

    def duplicate_entry(self, n: int) -> None:
        """A credit booked a second time for the same merchant order: a copy of the record
        (a new balanceRefNo, same order, business type and amount) a few seconds to minutes
        later, before the user's next record, linked into the chain like any booking. Only
        credits are copied, so no later balance falls (a user-level anomaly keeps its room)."""
        cands = []
        for u in self.users:
            alone = self._standalone(u)
            for i in alone:
                r = u.records[i]
                nxt = u.records[i + 1].create_time if i + 1 < len(u.records) else self.hi
                if r.type == CREDIT and min(nxt, self.hi) - r.create_time > 10:
                    cands.append((u, i))
        if len(cands) < n:
            raise self._too_few("duplicate_entry", n, len(cands))
        for u, i in self.rng.sample(cands, n):
            orig = u.records[i]
            nxt = u.records[i + 1].create_time if i + 1 < len(u.records) else self.hi
            t = orig.create_time + self.rng.randint(
                5, min(900, min(nxt, self.hi) - orig.create_time - 1)
            )
            dup = replace(
                orig,
                balance_ref_no=self.ref_no(),
                create_time=t,
                seq=max(r.seq for r in u.records) + 1,
                tie=self.rng.getrandbits(32),
                served_amount=None,
            )
            u.records.insert(i + 1, dup)
            u.link()
            self._take(orig, dup)
            self.planted.append(
                JtPlanted("duplicate_entry", "entry", dup.balance_ref_no, records=[orig, dup])
            )

    def ref_no(self) -> str:
        taken = {r.balance_ref_no for u in self.users for r in u.records}
        while True:
            ref = f"BR{self.rng.randrange(10**17, 10**18)}"
            if ref not in taken:
                return ref

    def wallet_balance_mismatch(self, n: int) -> None:
        for _ in range(n):
            u = self._pick_user("wallet_balance_mismatch")
            chain = u.records[-1].after
            u.balance_delta = self._delta(chain - cod_share(chain))
            self.planted.append(JtPlanted("wallet_balance_mismatch", "wallet", u.mch_uuid, user=u))
