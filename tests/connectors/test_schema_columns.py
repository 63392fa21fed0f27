"""Columnwise conversion takes exactly what value-by-value conversion takes.

`convert_table` hands whole columns to Arrow when they look plainly fine; these tests feed
it the values that look fine but are not (a date that does not exist, a sixth decimal, an
amount too large for its column) and check every row against `_convert`, the one rule.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from connectors.money import ValueRefused
from connectors.openapi.rows import DATETIME_FORMAT, SCHEMAS
from connectors.openapi.rows import convert_table as convert_openapi
from connectors.schema import Column, EntitySchema, _convert, convert_rows, convert_table

TRICKY: dict[str, list[object]] = {
    "text": ["", None, "abc", 12, Decimal("1.5"), True, ["x"], {"a": 1}],
    "int": [1, -7, 0, "", None, "12", " 3 ", True, Decimal("2"), Decimal("2.5"), 2**63, "x"],
    "money": [
        Decimal("1.23"),
        Decimal("1.230"),
        Decimal("1.234"),
        Decimal("-0.00"),
        Decimal("1E+2"),
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("1E+16"),
        Decimal("9999999999999999.99"),
        10020,
        10**17,
        "12.30",
        "12,30",
        1.5,
        True,
        "",
        None,
    ],
    "datetime": [
        "2026-11-09 10:00:00",
        "2024-02-29 23:59:59",
        "2026-02-29 00:00:00",
        "2026-02-30 00:00:00",
        "2026-11-09 24:00:00",
        "2026-11-09 23:59:60",
        "2026-1-9 1:2:3",
        "2026-11-09T10:00:00",
        "2026-11-09 10:00:00.5",
        "2026-11-09",
        "0000-01-01 00:00:00",
        "",
        None,
        20261109,
    ],
}


def one_column(kind: str, required: bool) -> EntitySchema:
    return EntitySchema("probe", (Column("value", kind, required),), ("customer_id",))  # type: ignore[arg-type]


def value_by_value(column: Column, value: object) -> object:
    try:
        return _convert(column, value, DATETIME_FORMAT)
    except ValueRefused as refused:
        return Refused(str(refused))


class Refused(str):
    """A value `_convert` refused, with its reason."""


EIGHT_PLACES = [Decimal("0.12345678"), Decimal("1.123456789"), Decimal("1E+15"), 10**16]
TRICKY |= {
    "minor": TRICKY["int"],
    "rate": TRICKY["money"] + EIGHT_PLACES,
    "decimal": TRICKY["money"] + EIGHT_PLACES,
    "json": [None, "", {"a": Decimal("1.5")}, [1, 2], "x"],
}
GOOD = {
    "text": "ok",
    "int": 5,
    "minor": 5,
    "money": Decimal("1.00"),
    "rate": Decimal("7.12345678"),
    "decimal": Decimal("7.12345678"),
    "datetime": "2026-11-09 00:00:00",
    "json": {"b": 2},
}


@pytest.mark.parametrize("kind", sorted(TRICKY))
@pytest.mark.parametrize("required", [False, True])
def test_every_value_alone_and_among_good_ones_is_taken_as_value_by_value(
    kind: str, required: bool
) -> None:
    schema = one_column(kind, required)
    for value in TRICKY[kind]:
        # Alone, and among plainly good values: a column goes to Arrow whole or value by value.
        for values in ([value], [GOOD[kind], value, GOOD[kind]]):
            columns = convert_table(schema, 1, [{"value": v} for v in values], DATETIME_FORMAT)
            want = [value_by_value(schema.columns[0], v) for v in values]
            assert columns.table.column("value").to_pylist() == [
                w for w in want if not isinstance(w, Refused)
            ], (value, values)
            assert [q["reason"] for q in columns.quarantined] == [
                w for w in want if isinstance(w, Refused)
            ], (value, values)


def test_a_refused_row_names_the_first_column_that_refused_it_and_keeps_its_place() -> None:
    rows: list[object] = [
        row(transaction_id="T1"),
        row(transaction_id="T2", amount="12,30", transaction_time="2026-02-30 00:00:00"),
        "not a row",
        row(transaction_id="T3", create_at="2026-02-30 00:00:00"),
        row(transaction_id="T4"),
    ]
    columns = convert_openapi("transactions", 7, rows)
    assert columns.table.column("transaction_id").to_pylist() == ["T1", "T4"]
    assert columns.kept == [0, 4]
    assert [(q["row_key"], q["reason"]) for q in columns.quarantined] == [
        ("T2|2|USD", "amount: not an exact number: '12,30'"),
        ("", "row is not an object but a string"),
        ("T3|2|USD", "create_at: '2026-02-30 00:00:00' does not match %Y-%m-%d %H:%M:%S"),
    ]


def test_rows_as_objects_and_as_columns_hold_the_same_values() -> None:
    rng = random.Random(3)
    rows = [
        row(transaction_id=f"T{i}", amount=Decimal(rng.randint(1, 10**6)) / 100) for i in range(50)
    ]
    columns = convert_openapi("transactions", 7, rows)
    objects = convert_rows(SCHEMAS["transactions"], 7, rows, DATETIME_FORMAT, {"x": 1})
    assert [{**r, "x": 1} for r in columns.table.to_pylist()] == objects.rows
    # Exact decimals at the column's scale, never floats.
    assert all(type(r["amount"]) is Decimal for r in objects.rows)
    assert objects.rows[0]["amount"] == rows[0]["amount"]


def row(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "transaction_id": "T",
        "record_id": "",
        "in_out_type": 2,
        "transaction_type": 5010,
        "amount": Decimal("10.00"),
        "currency": "USD",
        "before_balance": Decimal("100.00"),
        "after_balance": Decimal("90.00"),
        "status": 2,
        "approve_at": "",
        "transaction_time": "2026-11-09 10:00:00",
        "create_at": "2026-11-09 10:00:01",
    }
    return base | fields
