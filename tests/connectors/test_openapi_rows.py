"""Row conversion: exact or refused with a reason; card secrets gone before anything else."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from connectors.money import ValueRefused, to_decimal
from connectors.openapi.client import Credentials
from connectors.openapi.rows import convert_rows, scrub_card

ROW = {
    "record_id": "",
    "transaction_id": "300020240221051141000010000011fe4e6b5fb723e436",
    "out_transaction_id": "pm_hNdzztERid5DVGf0",
    "product_id": 3000,
    "in_out_type": 2,
    "transaction_type": 5010,
    "transaction_desc": "付款",
    "amount": 1025,
    "currency": "USD",
    "before_balance": Decimal("8475"),
    "after_balance": Decimal("7450"),
    "approve_type": 20,
    "approve_at": "2024-02-21 05:11:44",
    "status": 2,
    "reject_reason": "",
    "attach": '{"payment_id":"pm_eNPPXVFmVqAEbvFB"}',
    "remark": "付款",
    "transaction_time": "2024-02-21 05:11:41",
    "create_at": "2024-02-21 05:11:42",
}


def test_the_seed_row_converts_exactly() -> None:
    converted = convert_rows("transactions", 10000011, [ROW])
    assert converted.quarantined == []
    (row,) = converted.rows
    assert row["amount"] == Decimal("1025.00") and isinstance(row["amount"], Decimal)
    assert row["after_balance"] == Decimal("7450.00")
    assert row["transaction_time"] == datetime(2024, 2, 21, 5, 11, 41)
    assert row["approve_at"] == datetime(2024, 2, 21, 5, 11, 44)
    assert row["customer_id"] == 10000011


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "12,30", "not an exact number"),
        ("amount", 12.3, "not an exact number"),
        ("amount", Decimal("1.005"), "more than 2 decimals"),
        ("amount", None, "required"),
        ("transaction_time", "21/02/2024", "does not match"),
        ("in_out_type", "income", "expected an integer"),
    ],
)
def test_malformed_rows_are_refused_with_a_reason(field: str, value: object, reason: str) -> None:
    converted = convert_rows("transactions", 1, [ROW, {**ROW, field: value, "transaction_id": "x"}])
    assert len(converted.rows) == 1
    (refused,) = converted.quarantined
    assert refused["row_key"].startswith("x|") and reason in refused["reason"]
    assert field in refused["reason"]


def test_decimals_keep_every_digit_and_refuse_rounding() -> None:
    assert to_decimal(Decimal("7.12345678"), "rate", 8) == Decimal("7.12345678")
    assert to_decimal("0.10", "amount", 2) + to_decimal("0.20", "amount", 2) == Decimal("0.30")
    assert to_decimal(Decimal("1.500"), "amount", 2) == Decimal("1.50")  # trailing zero only
    with pytest.raises(ValueRefused):
        to_decimal(Decimal("7.123456789"), "rate", 8)
    with pytest.raises(ValueRefused):
        to_decimal(True, "amount", 2)


def test_scrub_card_keeps_only_the_last_four_digits() -> None:
    card = {"card_id": "c1", "card_no": "4485333916826937", "cvv": "183", "pin": "1234"}
    clean = scrub_card(card)
    assert clean == {"card_id": "c1", "card_last4": "6937"}


def test_credentials_parse_and_never_show_the_key() -> None:
    creds = Credentials.parse_many("10001001:100001:ae9ae3f5ad284ef4836de18aa3d41c47, 2:3:k")
    assert [(c.customer_id, c.app_id) for c in creds] == [(10001001, 100001), (2, 3)]
    assert "ae9ae3f5" not in repr(creds) and "customer 10001001" in creds[0].label
    with pytest.raises(ValueError, match="entry 1 must look like"):
        Credentials.parse_many("10001001:ae9ae3f5")
