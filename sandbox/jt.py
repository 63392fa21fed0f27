"""The JT wallet world (providers.md §2): users, their balance-record chains, and its queries.

Money is integer minor units (satang for THB). A user's balance at `now` is the
`afterBalance` of the last record of its chain created by then, hidden records included (a
hidden record was booked, it is only missing from the listing). Records are visible once
`createTime <= now`; there are no late records, createTime is the only time a record has.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sandbox.model import fmt_time, money

CREDIT, DEBIT = "CREDIT", "DEBIT"
COD_SHARE_PERCENT = 40  # codBalance: this share of the balance, rounded down to whole units


@dataclass(slots=True, eq=False)
class JtRecord:
    """One balance record: a movement of one user's wallet."""

    balance_ref_no: str
    mch_uuid: str
    uuid: str
    type: str
    business_type: str
    amount: int
    create_time: int
    mch_order_id: str
    seq: int  # booking order, which is the chain order within a second
    tie: int  # serving order within a second: arbitrary but fixed
    before: int = 0
    after: int = 0
    hidden: bool = False
    served_amount: int | None = None

    def signed_amount(self) -> int:
        return self.amount if self.type == CREDIT else -self.amount


@dataclass(slots=True, eq=False)
class JtUser:
    """A JT wallet user (one wallet, one currency) and its chain in booking order."""

    mch_uuid: str
    uuid: str
    center_no: str
    branch_no: str
    create_time: int
    kyc_status: str
    authorization_status: str
    mobile_verification_status: str
    cod_enable_status: str
    user_status: str
    withdraw_threshold: int
    unclear_bill_amount: int
    unclear_bill_amount_due: int
    records: list[JtRecord] = field(default_factory=list)
    chain_times: list[int] = field(default_factory=list)
    balance_delta: int = 0  # wallet_balance_mismatch: reported balance and baseBalance off
    base_delta: int = 0  # jt_balance_composition (user): baseBalance alone off

    def link(self) -> None:
        """Order the chain by (createTime, booking order) and derive its balances."""
        self.records.sort(key=lambda r: (r.create_time, r.seq))
        balance = 0
        for r in self.records:
            r.before = balance
            balance += r.signed_amount()
            r.after = balance
        self.chain_times = [r.create_time for r in self.records]


@dataclass(frozen=True)
class JtUserState:
    """What the balance endpoint reports for a user at a moment (minor units)."""

    balance: int
    base_balance: int
    cod_balance: int
    update_time: int


@dataclass
class JtPlanted:
    """One planted JT anomaly; its manifest row is derived at the world's end."""

    check_name: str
    entity_type: str
    entity_id: str
    records: list[JtRecord] = field(default_factory=list)
    user: JtUser | None = None


def cod_share(balance: int) -> int:
    return max(0, balance * COD_SHARE_PERCENT // 100 // 100 * 100)


class JtWorld:
    """The JT side of a world: credentials, users, records by time, planted anomalies."""

    def __init__(
        self,
        app_id: str,
        currency: str,
        users: list[JtUser],
        planted: list[JtPlanted],
        totals_delta: int = 0,
    ) -> None:
        self.app_id = app_id
        self.currency = currency
        self.users = users
        self.planted = planted
        self.totals_delta = totals_delta  # jt_balance_composition (totals): totalBalance off
        for u in users:
            u.link()
        self.by_mch_uuid = {u.mch_uuid: u for u in users}
        served = [r for u in users for r in u.records if not r.hidden]
        # Ascending by time, equal times in the `tie` order: the listing says nothing about
        # booking order within a second, as with the provider.
        self._records = sorted(served, key=lambda r: (r.create_time, r.tie))
        self._times = [r.create_time for r in self._records]
        per_user: dict[str, list[JtRecord]] = defaultdict(list)
        for r in self._records:
            per_user[r.mch_uuid].append(r)
        self._by_user = {k: (rows, [r.create_time for r in rows]) for k, rows in per_user.items()}

    def chain_balance(self, user: JtUser, now: int) -> int:
        i = bisect_right(user.chain_times, now)
        return user.records[i - 1].after if i else 0

    def user_state(self, user: JtUser, now: int) -> JtUserState:
        i = bisect_right(user.chain_times, now)
        chain = user.records[i - 1].after if i else 0
        cod = cod_share(chain)
        return JtUserState(
            balance=chain + user.balance_delta,
            base_balance=chain - cod + user.balance_delta + user.base_delta,
            cod_balance=cod,
            update_time=user.records[i - 1].create_time if i else user.create_time,
        )

    def visible_users(self, now: int) -> list[JtUser]:
        """Users that exist at `now`, newest first (then by mchUuid)."""
        users = [u for u in self.users if u.create_time <= now]
        users.sort(key=lambda u: u.mch_uuid)
        users.sort(key=lambda u: u.create_time, reverse=True)
        return users

    def records_window(
        self, mch_uuid: str | None, start: int, end: int, now: int
    ) -> tuple[list[JtRecord], int, int]:
        """Served records with start <= createTime < min(end, now + 1): (ascending rows, lo, hi).

        The window is rows[lo:hi]; the caller cuts pages newest first without copying it.
        """
        if mch_uuid is None:
            rows, times = self._records, self._times
        else:
            rows, times = self._by_user.get(mch_uuid, ([], []))
        lo = bisect_left(times, start)
        hi = min(bisect_left(times, end), bisect_right(times, now))
        return rows, lo, max(lo, hi)

    def manifest_rows(self, end: int) -> list[dict[str, Any]]:
        """The manifest rows of the planted anomalies, as of the world's `end`."""
        return [self._describe(p, end) for p in self.planted]

    def _describe(self, p: JtPlanted, end: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "check_name": p.check_name,
            "provider": "jt",
            "account_id": self.app_id,
            "entity_type": p.entity_type,
            "entity_id": p.entity_id,
            "currency": self.currency,
            "transaction_ids": [r.balance_ref_no for r in p.records],
        }
        if p.check_name == "duplicate_entry":
            row["detail"] = "the same merchant order was credited twice under two balanceRefNos"
            row.update(expected=None, actual=None, difference=None)
            return row
        if p.check_name == "chain_gap":
            prev, missing, nxt = p.records
            expected, actual = prev.after, nxt.before
            row["transaction_ids"] = [prev.balance_ref_no, nxt.balance_ref_no]
            row["missing_transaction_id"] = missing.balance_ref_no
            row["detail"] = f"balance record {missing.balance_ref_no} is missing from the records"
        elif p.check_name == "entry_arithmetic":
            (r,) = p.records
            assert r.served_amount is not None
            expected, actual = abs(r.after - r.before), r.served_amount
            row["detail"] = f"amount {money(actual)} but the balance moved by {money(expected)}"
        elif p.check_name == "wallet_balance_mismatch":
            assert p.user is not None
            expected = self.chain_balance(p.user, end)
            actual = self.user_state(p.user, end).balance
            row["detail"] = "reported balance differs from the balance records"
        elif p.entity_type == "user":
            assert p.user is not None
            state = self.user_state(p.user, end)
            expected, actual = state.base_balance + state.cod_balance, state.balance
            row["detail"] = "reported balance differs from baseBalance + codBalance"
        else:
            expected = sum(self.user_state(u, end).balance for u in self.visible_users(end))
            actual = expected + self.totals_delta
            row["detail"] = "totalBalance differs from the sum of the users' balances"
        row["expected"] = money(expected)
        row["actual"] = money(actual)
        row["difference"] = money(actual - expected)
        return row


def user_row(u: JtUser, state: JtUserState) -> dict[str, Any]:
    """A user as the balance endpoint lists it (seed 002 field order)."""
    return {
        "mchUuid": u.mch_uuid,
        "uuid": u.uuid,
        "centerNo": u.center_no,
        "branchNo": u.branch_no,
        "balance": state.balance,
        "baseBalance": state.base_balance,
        "codBalance": state.cod_balance,
        "withdrawThreshold": u.withdraw_threshold,
        "unclearBillAmountDue": u.unclear_bill_amount_due,
        "unclearBillAmount": u.unclear_bill_amount,
        "createTime": fmt_time(u.create_time),
        "updateTime": fmt_time(state.update_time),
        "KYCStatus": u.kyc_status,
        "authorizationStatus": u.authorization_status,
        "mobileVerificationStatus": u.mobile_verification_status,
        "codEnableStatus": u.cod_enable_status,
        "userStatus": u.user_status,
    }


def record_row(r: JtRecord) -> dict[str, Any]:
    return {
        "balanceRefNo": r.balance_ref_no,
        "mchUuid": r.mch_uuid,
        "uuid": r.uuid,
        "type": r.type,
        "businessType": r.business_type,
        "amount": r.amount if r.served_amount is None else r.served_amount,
        "beforeBalance": r.before,
        "afterBalance": r.after,
        "mchOrderId": r.mch_order_id,
        "createTime": fmt_time(r.create_time),
    }
