"""JT rows as typed records: integer minor units as sent, and their exact major-unit values.

JT sends money as integer minor units (`50000` = 500.00 THB). They land unchanged in
`*_minor` columns, and beside each the major-unit Decimal, converted with the currency's
exponent (connectors.money.minor_to_major), so no later step divides (SQL division of
decimals goes through floating point).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa

from connectors.jt.profile import PROFILE
from connectors.money import ValueRefused, minor_to_major, to_decimal
from connectors.schema import (
    PLACES,
    Converted,
    EntitySchema,
    cols,
    convert_table,
    quarantine_row,
)

SCHEMAS: dict[str, EntitySchema] = {
    "users": EntitySchema(
        "users",
        cols(
            "mch_uuid=mchUuid:text! uuid:text center_no=centerNo:text branch_no=branchNo:text "
            "balance_minor=balance:minor! base_balance_minor=baseBalance:minor! "
            "cod_balance_minor=codBalance:minor! withdraw_threshold_minor=withdrawThreshold:minor "
            "unclear_bill_amount_minor=unclearBillAmount:minor "
            "unclear_bill_amount_due_minor=unclearBillAmountDue:minor "
            "create_time=createTime:datetime update_time=updateTime:datetime "
            "kyc_status=KYCStatus:text authorization_status=authorizationStatus:text "
            "mobile_verification_status=mobileVerificationStatus:text "
            "cod_enable_status=codEnableStatus:text user_status=userStatus:text"
        ),
        ("app_id", "mch_uuid"),
        account="app_id",
        account_kind="text",
    ),
    "balance_records": EntitySchema(
        "balance_records",
        cols(
            "balance_ref_no=balanceRefNo:text! mch_uuid=mchUuid:text! uuid:text type:text! "
            "business_type=businessType:text amount_minor=amount:minor! "
            "before_balance_minor=beforeBalance:minor! after_balance_minor=afterBalance:minor! "
            "mch_order_id=mchOrderId:text create_time=createTime:datetime!"
        ),
        ("app_id", "balance_ref_no"),
        account="app_id",
        account_kind="text",
    ),
    "user_totals": EntitySchema(
        "user_totals",
        cols(
            "total_balance_minor=totalBalance:minor! "
            "total_base_balance_minor=totalBaseBalance:minor! "
            "total_cod_balance_minor=totalCodBalance:minor! "
            "total_withdraw_threshold_minor=totalWithdrawThreshold:minor "
            "total_unclear_bill_amount_minor=totalUnclearBillAmount:minor "
            "total_unclear_bill_amount_due_minor=totalUnclearBillAmountDue:minor "
            "users=total:int!"
        ),
        ("app_id",),
        account="app_id",
        account_kind="text",
    ),
}
RECORD_TYPES = ("CREDIT", "DEBIT")
MONEY = pa.decimal128(18, PLACES["money"])


def major_columns(entity: str) -> dict[str, pa.DataType]:
    """`currency` and the major-unit column of every `*_minor` column of an entity."""
    minor = [c.name for c in SCHEMAS[entity].columns if c.kind == "minor"]
    return {"currency": pa.string()} | {name.removesuffix("_minor"): MONEY for name in minor}


def convert_rows(
    entity: str,
    app_id: str,
    raw_rows: Iterable[object],
    extra: Mapping[str, object] | None = None,
    currency: str = PROFILE.currency,
) -> Converted:
    """Typed rows of one entity with major units added, and the rows refused with reasons."""
    schema = SCHEMAS[entity]
    minor = [c.name for c in schema.columns if c.kind == "minor"]
    raws = list(raw_rows)
    columns = convert_table(schema, app_id, raws, PROFILE.datetime_format)
    out = Converted([], columns.quarantined, columns.unknown)
    for index, row in zip(columns.kept, columns.table.to_pylist(), strict=True):
        try:
            if entity == "balance_records" and row["type"] not in RECORD_TYPES:
                raise ValueRefused(f"type: expected CREDIT or DEBIT, got {row['type']!r}")
            row.update(extra or {})
            row["currency"] = currency
            for name in minor:
                row[name.removesuffix("_minor")] = _major(row[name], name, currency)
        except ValueRefused as refused:
            out.quarantined.append(quarantine_row(schema, app_id, raws[index], str(refused)))
            continue
        out.rows.append(row)
    return out


def _major(minor: int | None, name: str, currency: str) -> object:
    if minor is None:
        return None
    # A currency with more minor digits than the landed scale is refused, not rounded.
    return to_decimal(minor_to_major(minor, currency), name, PLACES["money"])
