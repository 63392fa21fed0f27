"""The JT endpoints of providers.md §2.2: a verified `param` object in, the `data` object out.

Lists are cut into pages here (`page` from 1, `size` up to 10000, newest first). With
`shift`, a page of 2 or later comes back one row down with `total` one higher, as offset
paging over live data does when a row is inserted at the head of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sandbox.jt import JtUser, JtWorld, record_row, user_row
from sandbox.model import DAY, parse_time

MAX_SIZE = 10_000
DEFAULT_SIZE = 15
MAX_MCH_UUIDS = 5_000
MAX_WINDOW = 31 * DAY

STATUS_FILTERS: dict[str, tuple[str, Callable[[JtUser], str]]] = {
    "KYCStatus": ("Unsubmitted Pending Approved Rejected", lambda u: u.kyc_status),
    "authorizationStatus": ("Authorized Unauthorized", lambda u: u.authorization_status),
    "mobileVerificationStatus": ("Verified Unverified", lambda u: u.mobile_verification_status),
    "userStatus": ("Active Deactivating Deactivated", lambda u: u.user_status),
}

T = TypeVar("T")


class JtParamError(ValueError):
    """A `param` field is missing or invalid (code 21000)."""


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise JtParamError(f"{name} must be an integer")
    if not low <= value <= high:
        raise JtParamError(f"{name} must be between {low} and {high}")
    return value


def _str_list(
    params: dict[str, Any], name: str, limit: int, allowed: Sequence[str] | None = None
) -> set[str] | None:
    """A list filter; absent, null or empty means no filter."""
    value = params.get(name)
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JtParamError(f"{name} must be a list of strings")
    if len(value) > limit:
        raise JtParamError(f"{name} takes at most {limit} values")
    if allowed is not None and not set(value) <= set(allowed):
        raise JtParamError(f"{name} values must be among {', '.join(allowed)}")
    return set(value)


def _time(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise JtParamError(f"{name} is required")
    if not isinstance(value, str):
        raise JtParamError(f"{name} must be a string")
    try:
        return parse_time(value)
    except ValueError:
        raise JtParamError(f"{name} must look like 'yyyy-MM-dd HH:mm:ss', got {value!r}") from None


def _paging(params: dict[str, Any]) -> tuple[int, int]:
    return _int(params, "page", 1, 1, 10**9), _int(params, "size", DEFAULT_SIZE, 1, MAX_SIZE)


def _page_of(rows: Sequence[T], page: int, size: int, shift: bool) -> tuple[list[T], int]:
    """(the page of rows, total), rows already newest first."""
    offset, total = (page - 1) * size, len(rows)
    if shift:
        offset, total = offset - 1, total + 1
    return list(rows[max(0, offset) : max(0, offset + size)]), total


def wallet_balance(jt: JtWorld, now: int, params: dict[str, Any], shift: bool) -> dict[str, Any]:
    """`/open-api/jt/wallet/balance`: users matching the filters, with totals over all of them."""
    page, size = _paging(params)
    mch_uuids = _str_list(params, "mchUuidList", MAX_MCH_UUIDS)
    filters = [
        (_str_list(params, name, MAX_MCH_UUIDS, allowed.split()), get)
        for name, (allowed, get) in STATUS_FILTERS.items()
    ]
    users = [
        u
        for u in jt.visible_users(now)
        if (mch_uuids is None or u.mch_uuid in mch_uuids)
        and all(wanted is None or get(u) in wanted for wanted, get in filters)
    ]
    rows = [user_row(u, jt.user_state(u, now)) for u in users]
    listed, total = _page_of(rows, page, size, shift)

    def total_of(field: str) -> int:
        return sum(int(r[field]) for r in rows)

    # The planted totals anomaly shows whenever the query is not narrowed to named users.
    total_balance = total_of("balance") + (jt.totals_delta if mch_uuids is None else 0)
    return {
        "total": total,
        "size": size,
        "current": page,
        "totalBalance": total_balance,
        "totalBaseBalance": total_of("baseBalance"),
        "totalCodBalance": total_of("codBalance"),
        "totalUnclearBillAmountDue": total_of("unclearBillAmountDue"),
        "totalUnclearBillAmount": total_of("unclearBillAmount"),
        "totalWithdrawThreshold": total_of("withdrawThreshold"),
        "list": listed,
    }


def balance_records(jt: JtWorld, now: int, params: dict[str, Any], shift: bool) -> dict[str, Any]:
    """`/open-api/wallet/balance/records`: records with startTime <= createTime < endTime."""
    page, size = _paging(params)
    mch_uuid = params.get("mchUuid")
    if mch_uuid == "":
        mch_uuid = None
    if mch_uuid is not None and not isinstance(mch_uuid, str):
        raise JtParamError("mchUuid must be a string")
    start, end = _time(params, "startTime"), _time(params, "endTime")
    if start >= end:
        raise JtParamError("startTime must be before endTime")
    if end - start > MAX_WINDOW:
        raise JtParamError("the window from startTime to endTime must be 31 days or less")
    rows, lo, hi = jt.records_window(mch_uuid, start, end, now)
    offset, total = (page - 1) * size, hi - lo
    if shift:
        offset, total = offset - 1, total + 1
    # Newest first without copying the window: row k of the listing is rows[hi - 1 - k].
    first, last = max(lo, hi - offset - size), max(lo, min(hi, hi - offset))
    return {
        "total": total,
        "size": size,
        "current": page,
        "list": [record_row(r) for r in reversed(rows[first:last])],
    }


Handler = Callable[[JtWorld, int, dict[str, Any], bool], dict[str, Any]]

ROUTES: dict[str, Handler] = {
    "/open-api/jt/wallet/balance": wallet_balance,
    "/open-api/wallet/balance/records": balance_records,
}
