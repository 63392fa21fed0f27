"""Provider rows as typed records: one schema per entity, strict conversion, quarantine reasons.

A row either converts exactly (every amount a Decimal at its declared precision, integer minor
units as integers, every time a naive datetime on the provider's clock) or is refused whole
with the reason; nothing is rounded, guessed or dropped. A row that is not an object at all is
quarantined too. Each provider module declares its entities with `cols` and converts with
`convert_rows`, which also counts the fields a row carries that its schema does not know (a
provider changing its API shows up in the run's output rather than silently dropped).
Quarantined rows and reasons are kept without card numbers (connectors.redact).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import pyarrow as pa

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
    if column.required and (value is None or value == ""):
        raise ValueRefused(f"{column.name}: required but missing")
    if column.kind == "text":
        return to_text(value, column.name)
    if value is None or value == "":
        return None
    if column.kind in ("int", "minor"):
        return to_int(value, column.name)
    if column.kind in PLACES:
        return to_decimal(value, column.name, PLACES[column.kind])
    if column.kind == "datetime":
        return to_datetime(value, column.name, datetime_format)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


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


def convert_rows(
    schema: EntitySchema,
    account: object,
    raw_rows: Iterable[object],
    datetime_format: str,
    extra: Mapping[str, object] | None = None,
) -> Converted:
    """Typed rows for landing, and the rows refused with their reasons."""
    rows: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    unknown: Counter[str] = Counter()
    for raw in raw_rows:
        if not isinstance(raw, Mapping):
            reason = f"row is not an object but {json_kind(raw)}"
            quarantined.append(quarantine_row(schema, account, raw, reason))
            continue
        unknown.update(str(name) for name in raw if name not in schema.known_fields)
        try:
            row: dict[str, Any] = {schema.account: account}
            for column in schema.columns:
                row[column.name] = _convert(column, column.value(raw), datetime_format)
        except ValueRefused as refused:
            quarantined.append(quarantine_row(schema, account, raw, str(refused)))
            continue
        row.update(extra or {})
        rows.append(row)
    return Converted(rows, quarantined, unknown)


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
