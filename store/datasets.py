"""Every landed dataset of every provider, and the one name it keeps from lake to warehouse.

A dataset `<provider>__<entity>` lands as `lake/provider=<p>/entity=<e>/` (asset
`lake_<p>__<e>`), loads into `raw_<p>__<e>` and is staged by `sql/staging/stg_<p>__<e>.sql`.
Windowed datasets land one file per day window; snapshots one file per reading, with their
tails (the rows that move their balances, read around them) beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from connectors.jt.rows import SCHEMAS as JT_SCHEMAS
from connectors.jt.rows import major_columns
from connectors.openapi.rows import SCHEMAS as OPENAPI_SCHEMAS
from connectors.schema import EntitySchema
from connectors.whalet.rows import SCHEMAS as WHALET_SCHEMAS

WINDOW_COLUMNS = {"_window_start": pa.timestamp("s"), "_window_end": pa.timestamp("s")}
SNAPSHOT_COLUMNS = {"_snapshot_at": pa.timestamp("s")}
# A balance snapshot read between two reads of its tails says how far those rows are known
# complete (store.landing.openapi.land_bracketed).
CHAIN_COLUMNS = {"_tail_from": pa.timestamp("s"), "_chain_through": pa.timestamp("s")}
FETCHED = {"_fetched_at": pa.timestamp("s")}
SOURCE_FIELD = pa.field("_source_file", pa.string())  # the landed file a row was loaded from
SOURCE = {SOURCE_FIELD.name: SOURCE_FIELD.type}


@dataclass(frozen=True)
class Dataset:
    provider: str
    entity: str
    schema: EntitySchema
    windowed: bool
    # Columns the connector adds to the provider's fields (JT: currency and major units).
    derived: dict[str, pa.DataType] = field(default_factory=dict)
    # Windowed entities of the same provider read around this snapshot.
    tails: tuple[str, ...] = ()
    # Keep the versions of rows a later delivery replaced (the duplicate_entry check).
    history: bool = False
    # The entity whose lake asset lands this one in the same reading (JT user totals come
    # with the users).
    landed_with: str | None = None

    @property
    def name(self) -> str:
        return f"{self.provider}__{self.entity}"

    @property
    def lake_asset(self) -> str:
        return f"lake_{self.provider}__{self.landed_with or self.entity}"

    @property
    def raw_table(self) -> str:
        return f"raw_{self.name}"

    @property
    def staging_model(self) -> str:
        return f"stg_{self.name}"

    @property
    def history_table(self) -> str:
        return f"{self.raw_table}_history"

    def landed_columns(self) -> dict[str, pa.DataType]:
        """Columns after the provider's own: derived values and lineage."""
        if self.windowed:
            return self.derived | WINDOW_COLUMNS | FETCHED
        chain = CHAIN_COLUMNS if self.tails else {}
        return self.derived | SNAPSHOT_COLUMNS | chain | FETCHED

    def landed_schema(self) -> pa.Schema:
        return self.schema.arrow_schema(self.landed_columns())

    def table_schema(self) -> pa.Schema:
        return self.schema.arrow_schema(self.landed_columns() | SOURCE)

    def table_key(self) -> tuple[str, ...]:
        return self.schema.key if self.windowed else (*self.schema.key, "_snapshot_at")


def tail_entity(entity: str) -> str:
    return f"{entity}_tail"


def _jt(
    entity: str,
    windowed: bool,
    tails: tuple[str, ...] = (),
    with_: str | None = None,
    history: bool = False,
) -> Dataset:
    schema = JT_SCHEMAS[entity]
    derived = major_columns(entity)
    return Dataset("jt", entity, schema, windowed, derived, tails, history, with_)


DATASETS: tuple[Dataset, ...] = (
    Dataset("openapi", "transactions", OPENAPI_SCHEMAS["transactions"], True, history=True),
    Dataset("openapi", "card_trades", OPENAPI_SCHEMAS["card_trades"], True),
    Dataset("openapi", "orders", OPENAPI_SCHEMAS["orders"], True),
    Dataset("openapi", "wallets", OPENAPI_SCHEMAS["wallets"], False, tails=("transactions",)),
    Dataset("openapi", "cards", OPENAPI_SCHEMAS["cards"], False, tails=("orders", "card_trades")),
    Dataset("openapi", "exchange_rates", OPENAPI_SCHEMAS["exchange_rates"], False),
    _jt("balance_records", True, history=True),
    _jt("users", False, ("balance_records",)),
    _jt("user_totals", False, with_="users"),
    Dataset("whalet", "balances", WHALET_SCHEMAS["balances"], False),
    Dataset("whalet", "platform_balances", WHALET_SCHEMAS["platform_balances"], False),
)
BY_NAME = {d.name: d for d in DATASETS}
PROVIDERS: tuple[str, ...] = tuple(dict.fromkeys(d.provider for d in DATASETS))


def dataset(provider: str, entity: str) -> Dataset:
    return BY_NAME[f"{provider}__{entity}"]
