"""Provider rows as typed records: one schema per entity, strict conversion, quarantine reasons.

A row either converts exactly (every amount a Decimal at its declared precision, integer minor
units as integers, every time a naive datetime on the provider's clock) or is refused whole
with the reason; nothing is rounded, guessed or dropped. A row that is not an object at all is
quarantined too. Each provider module declares its entities with `cols` and converts with
`convert_rows`, which also counts the fields a row carries that its schema does not know (a
provider changing its API shows up in the run's output rather than silently dropped).
Quarantined rows and reasons are kept without card numbers (connectors.redact).

Conversion is column by column (`convert_table`): a window holds tens of thousands of rows,
and a column whose values are plainly fine (Decimals, ints, strings of the provider's
datetime shape) goes to Arrow in one call, which checks scale, range and dates in C. Only a
column with a value that is not plainly fine is converted value by value (`_convert`, the
rule both follow), to find which rows to refuse and why.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from connectors.http import json_kind
from connectors.money import ValueRefused, to_datetime, to_decimal, to_int, to_text
from connectors.redact import redact, redact_value

# money: major units at 2 decimals; decimal: major units at up to 8 decimals (an amount that
# must be checked rather than trusted); minor: integer minor units, named *_minor.
Kind = Literal["text", "int", "money", "decimal", "rate", "minor", "datetime", "json"]
PLACES: dict[str, int] = {"money": 2, "decimal": 8, "rate": 8}

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "money": pa.decimal128(18, 2),
    "decimal": pa.decimal128(24, 8),
    "rate": pa.decimal128(18, 8),
    "minor": pa.int64(),
    "datetime": pa.timestamp("s"),
    "json": pa.string(),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    # Where the value is in the provider's row when not under `name`: a field name, or a
    # dotted path into a nested object ("balance.cent").
    source: str | None = None

    def value(self, raw: Mapping[str, Any]) -> object:
        value: object = raw
        for part in (self.source or self.name).split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


@dataclass(frozen=True)
class EntitySchema:
    """Columns of one entity as landed, after the account column that identifies whose rows
    they are (OPEN-API customer_id, JT app_id, Whalet user_id)."""

    entity: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    account: str = "customer_id"
    account_kind: Kind = "int"

    @cached_property
    def known_fields(self) -> frozenset[str]:
        """The provider's field names this schema reads (the first part of a dotted source),
        and the account column, which some providers repeat in their rows."""
        return frozenset(
            {(c.source or c.name).split(".")[0] for c in self.columns} | {self.account}
        )

    def arrow_schema(self, extra: Mapping[str, pa.DataType] | None = None) -> pa.Schema:
        fields = [pa.field(self.account, ARROW_TYPES[self.account_kind], nullable=False)]
        fields += [pa.field(c.name, ARROW_TYPES[c.kind]) for c in self.columns]
        fields += [pa.field(n, t) for n, t in (extra or {}).items()]
        return pa.schema(fields)


def cols(spec: str) -> tuple[Column, ...]:
    """Compact column spec, space separated: `name:kind`, `name:kind!` (required), and
    `name=source:kind` when the provider's field is named otherwise."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        name, _, source = name.partition("=")
        required = kind.endswith("!")
        out.append(Column(name, kind.rstrip("!"), required, source or None))  # type: ignore[arg-type]
    return tuple(out)


def _convert(column: Column, value: object, datetime_format: str) -> object:
    """One value, exactly, or ValueRefused with the reason (the reference for the columnwise
    fast paths in `_fast_column`, which must accept nothing this refuses)."""
    if column.required and (value is None or value == ""):
        raise ValueRefused(f"{column.name}: required but missing")
    if column.kind == "text":
        return to_text(value, column.name)
    if value is None or value == "":
        return None
    if column.kind in ("int", "minor"):
        number = to_int(value, column.name)
        if not INT64_MIN <= number <= INT64_MAX:
            raise ValueRefused(f"{column.name}: {value} is out of range")
        return number
    if column.kind in PLACES:
        exact = to_decimal(value, column.name, PLACES[column.kind])
        # The landed column holds so many digits; more is a value no file could hold.
        if len(exact.as_tuple().digits) > ARROW_TYPES[column.kind].precision:
            raise ValueRefused(f"{column.name}: {value} is out of range")
        return exact
    if column.kind == "datetime":
        return to_datetime(value, column.name, datetime_format)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The provider's usual datetime format: Arrow parses it columnwise (`_fast_datetimes`).
ISO_SECONDS = "%Y-%m-%d %H:%M:%S"
_ISO_SECONDS_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_FIRST_DATETIME = pa.scalar(datetime(1, 1, 1), pa.timestamp("s"))
_NONE = type(None)
# What Arrow may be handed for a column of each kind without a look at each value: it refuses
# (ArrowInvalid, OverflowError) a value of these types that does not fit, and it is then
# converted value by value to find which and why.
_FAST_TYPES: dict[str, frozenset[type]] = {
    "text": frozenset({str}),
    "int": frozenset({int}),
    "minor": frozenset({int}),
    "money": frozenset({Decimal, int}),
    "decimal": frozenset({Decimal, int}),
    "rate": frozenset({Decimal, int}),
    "datetime": frozenset({str}),
}


def _fast_column(column: Column, values: list[object], datetime_format: str) -> pa.Array | None:
    """The column as an Arrow array when every value is plainly fine, without converting
    value by value; None when some value needs `_convert` to say what it is.

    Decimals go to Arrow as they are: it rescales them to the column's scale and refuses
    any that would lose a digit or not fit, where `to_decimal` or the range check would
    refuse. Unset optional values (None, and "" for columns that are not text) become
    nulls, a text column's None "", as in `_convert`.
    """
    fast = _FAST_TYPES.get(column.kind)
    if fast is None:
        return None
    kinds = set(map(type, values))
    unset = str if column.kind != "text" and column.kind != "datetime" else _NONE
    if unset is str and str in kinds:
        # Only "" may be a string in a column of numbers: it means unset.
        if any(v != "" for v in values if type(v) is str):
            return None
        values = [None if type(v) is str else v for v in values]
        kinds = set(map(type, values))
    if _NONE in kinds:
        if column.required:
            return None
        if column.kind == "text":
            values = ["" if v is None else v for v in values]
        kinds.discard(_NONE)
    if not kinds <= fast or (column.required and str in kinds and "" in values):
        return None
    try:
        if column.kind == "datetime":
            return _fast_datetimes(values, column.required, datetime_format)
        return pa.array(values, ARROW_TYPES[column.kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _fast_datetimes(values: list[object], required: bool, fmt: str) -> pa.Array | None:
    """Provider datetimes parsed by Arrow, or None when one is not plainly in `fmt`.

    Only the usual format is taken this way, and only when every value has exactly its
    shape (digits where `strptime` wants them, no fractions, zones or `T`): Arrow's ISO
    parser then refuses what `strptime` refuses (2026-02-30, 24:00:00, second 60) and reads
    the rest the same. Anything else is left to `strptime`, value by value.
    """
    if fmt != ISO_SECONDS:
        return None
    text = pa.array(values, pa.string())
    if not required:
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if not pc.all(pc.match_substring_regex(text, _ISO_SECONDS_SHAPE), skip_nulls=True).as_py():
        return None
    parsed = text.cast(ARROW_TYPES["datetime"])
    # Arrow reads year 0000, which no Python datetime (nor `strptime`) has.
    if pc.any(pc.less(parsed, _FIRST_DATETIME)).as_py():
        return None
    return parsed


def _slow_column(
    column: Column, values: list[object], datetime_format: str, refused: dict[int, str]
) -> pa.Array:
    """The column value by value; a refused value is null and its row's first reason is
    kept in `refused` (columns are converted in order, so the reason names the first
    column that refused the row, as a row-by-row conversion would)."""
    out: list[object] = []
    for i, value in enumerate(values):
        try:
            out.append(_convert(column, value, datetime_format))
        except ValueRefused as reason:
            out.append(None)
            refused.setdefault(i, str(reason))
    return pa.array(out, ARROW_TYPES[column.kind])


def raw_text(row: object) -> str:
    """A row as JSON text for quarantine; numbers keep their exact digits, card numbers do
    not survive."""
    return json.dumps(redact_value(row), default=str, ensure_ascii=False, sort_keys=True)


@dataclass
class Converted:
    rows: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]
    # Fields the schema does not know -> how many rows carried each.
    unknown: Counter[str] = field(default_factory=Counter)

    def add(self, other: Converted) -> None:
        self.rows += other.rows
        self.quarantined += other.quarantined
        self.unknown.update(other.unknown)


@dataclass
class Columns:
    """Converted rows as Arrow columns (the account column, then the schema's), the rows
    refused with their reasons, and for each kept row its place among the rows given."""

    table: pa.Table
    quarantined: list[dict[str, Any]]
    unknown: Counter[str]
    kept: list[int]


def convert_table(
    schema: EntitySchema, account: object, raw_rows: Iterable[object], datetime_format: str
) -> Columns:
    """Typed rows for landing, converted column by column, and the rows refused.

    The same rule as value by value (`_convert`): a column whose values are all plainly
    fine goes to Arrow in one call (`_fast_column`); any other is converted value by value,
    so a refused row gets the reason of the first column that refused it.
    """
    raws = list(raw_rows)
    objects: list[int] = []
    rows: list[Mapping[str, Any]] = []
    for i, raw in enumerate(raws):
        if type(raw) is dict or isinstance(raw, Mapping):
            objects.append(i)
            rows.append(raw)
    quarantined = {
        i: f"row is not an object but {json_kind(raws[i])}"
        for i in sorted(set(range(len(raws))) - set(objects))
    }
    unknown: Counter[str] = Counter()
    # Rows of one provider share their fields: count each set of names once.
    for names, count in Counter(tuple(raw) for raw in rows).items():
        for name in names:
            if name not in schema.known_fields:
                unknown[str(name)] += count
    refused: dict[int, str] = {}
    arrays = [pa.repeat(pa.scalar(account, ARROW_TYPES[schema.account_kind]), len(rows))]
    for column in schema.columns:
        name = column.source or column.name
        if "." in name:
            values = [column.value(raw) for raw in rows]
        else:
            values = [raw.get(name) for raw in rows]
        array = _fast_column(column, values, datetime_format)
        if array is None:
            array = _slow_column(column, values, datetime_format, refused)
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=schema.arrow_schema())
    if refused:
        table = table.filter(pa.array([i not in refused for i in range(len(rows))]))
        quarantined |= {objects[i]: reason for i, reason in refused.items()}
    kept = [objects[i] for i in range(len(rows)) if i not in refused]
    refusals = [
        quarantine_row(schema, account, raws[i], reason)
        for i, reason in sorted(quarantined.items())
    ]
    return Columns(table, refusals, unknown, kept)


def convert_rows(
    schema: EntitySchema,
    account: object,
    raw_rows: Iterable[object],
    datetime_format: str,
    extra: Mapping[str, object] | None = None,
) -> Converted:
    """Typed rows for landing, as objects with `extra`'s values added, and the rows refused
    with their reasons (`convert_table`)."""
    columns = convert_table(schema, account, raw_rows, datetime_format)
    rows = columns.table.to_pylist()
    if extra:
        for row in rows:
            row.update(extra)
    return Converted(rows, columns.quarantined, columns.unknown)


def quarantine_row(
    schema: EntitySchema, account: object, raw: object, reason: str
) -> dict[str, Any]:
    by_name = {c.name: c for c in schema.columns}
    key = (
        "|".join(
            str(by_name[k].value(raw) or "") if k in by_name else ""
            for k in schema.key
            if k != schema.account
        )
        if isinstance(raw, Mapping)
        else ""
    )
    return {
        "entity": schema.entity,
        "account_id": str(account),
        "row_key": redact(key),
        "reason": redact(reason),
        "raw": raw_text(raw),
    }


QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("provider", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("row_key", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("window_start", pa.timestamp("s")),
        pa.field("window_end", pa.timestamp("s")),
        pa.field("fetched_at", pa.timestamp("s")),
    ]
)
