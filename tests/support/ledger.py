"""Runs hand-written ledgers (tests/fixtures/recon/*.json) through the real load and check path.

A fixture is a story in runs. Each run delivers some day windows of ledger rows (OPEN-API
`windows`; JT balance records `jt_windows`, in minor units: `{day: rows}`, or
`{entity: {day: rows}}`) and optionally wallet, rate, order, card and trade snapshots, in the
provider's JSON shape, with
the API's `total` for each window (the rows delivered, unless `api_totals` says otherwise); the
rows are converted, landed as Parquet, loaded into DuckDB by key, staged, and reconciled,
exactly as a pipeline run does. Then `fct_breaks` must hold the run's `expect` list.

A run may also deliver Whalet readings (`whalet_balances`, `whalet_platform_balances`: rows
of `account`, `fund_source`, `currency`, `balance`, every other money object 0) and
check settings (`settings`, fields of `store.breaks.Settings`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from connectors.jt.rows import convert_rows as convert_jt_rows
from connectors.openapi.rows import convert_rows
from connectors.whalet.rows import convert_rows as convert_whalet_rows
from store import breaks, duck, lake
from store.datasets import dataset
from store.warehouse import STAGING, ensure_raw_tables, load_new_snapshots, load_window

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "recon"
PROVIDER = "openapi"
CUSTOMER = 10001001
JT_APP = "jt-app-1"
FIRST_RUN = datetime(2026, 11, 10, 2, 30)

ENTRY_DEFAULTS: dict[str, Any] = {
    "record_id": "",
    "out_transaction_id": "",
    "transaction_type": 9010,
    "transaction_desc": "",
    "status": 2,
    "reject_reason": "",
    "remark": "",
    "attach": "",
    "approve_type": 0,
    "approve_at": "",
}


def entry(row: dict[str, Any]) -> dict[str, Any]:
    """A ledger row in the provider's shape; a fixture states only what matters."""
    full = ENTRY_DEFAULTS | {"product_id": row["transaction_id"][:4]} | row
    full.setdefault("create_at", full["transaction_time"])
    for name in ("amount", "before_balance", "after_balance"):
        full[name] = Decimal(str(full[name]))
    return full


@dataclass
class Ledger:
    """One warehouse under test; `deliver` plays one run of a fixture."""

    data_dir: Path
    runs: int = 0

    def lake(self) -> lake.Lake:
        return lake.Lake.local(lake.lake_root(self.data_dir))

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.data_dir / "warehouse.duckdb"))

    def deliver(self, run: dict[str, Any], settings: breaks.Settings | None = None) -> None:
        taken_at = FIRST_RUN + timedelta(days=self.runs)
        self.runs += 1
        with self.connect() as con:
            ensure_raw_tables(con)
            totals = run.get("api_totals", {})
            for entity, windows in run.get("windows", {}).items():
                for day_text, rows in windows.items():
                    day = date.fromisoformat(day_text)
                    total = totals.get(entity, {}).get(day_text, len(rows))
                    self._land_window(entity, day, rows, taken_at, int(total))
                    load_window(con, self.lake(), dataset(PROVIDER, entity), day)
            for key, value in run.get("jt_windows", {}).items():
                # {day: rows} of balance records, or {entity: {day: rows}}.
                jt = value if isinstance(value, dict) else {key: value}
                entity = key if isinstance(value, dict) else "balance_records"
                for day_text, rows in jt.items():
                    day = date.fromisoformat(day_text)
                    self._land_window(entity, day, rows, taken_at, len(rows), "jt")
                    load_window(con, self.lake(), dataset("jt", entity), day)
            for entity in ("wallets", "cards", "exchange_rates"):
                if entity in run:
                    self._land_snapshot(entity, run[entity], taken_at)
                    load_new_snapshots(con, self.lake(), dataset(PROVIDER, entity))
            for entity in ("balances", "platform_balances"):
                if f"whalet_{entity}" in run:
                    self._land_whalet(entity, run[f"whalet_{entity}"], taken_at)
                    load_new_snapshots(con, self.lake(), dataset("whalet", entity))
            for model in STAGING:
                duck.build_model(con, model)
            if settings is None:
                settings = breaks.Settings(**run.get("settings", {}))
            breaks.reconcile(con, settings, taken_at)

    def _land_window(
        self,
        entity: str,
        day: date,
        rows: list[dict[str, Any]],
        fetched_at: datetime,
        api_total: int,
        provider: str = PROVIDER,
    ) -> None:
        """Land a window as the pipeline does; the API's total is the rows delivered unless
        the fixture says the API reported another (`api_totals`)."""
        start = datetime(day.year, day.month, day.day)
        extra = {
            "_window_start": start,
            "_window_end": start + timedelta(days=1),
            "_fetched_at": fetched_at,
        }
        if provider == "jt":
            account = JT_APP
            converted = convert_jt_rows(entity, JT_APP, rows, extra)
        else:
            account = str(CUSTOMER)
            raw = [entry(r) for r in rows] if entity == "transactions" else rows
            converted = convert_rows(entity, CUSTOMER, raw, extra)
        assert not converted.quarantined, converted.quarantined
        schema = dataset(provider, entity).landed_schema()
        table = pa.Table.from_pylist(converted.rows, schema=schema)
        counts = [lake.WindowCount(account, api_total, len(converted.rows), 0)]
        self.lake().replace_window(
            provider,
            entity,
            day,
            lake.with_counts(table, fetched_at, counts),
            pa.table({}),
        )

    def _land_snapshot(self, entity: str, rows: list[dict[str, Any]], taken_at: datetime) -> None:
        extra: dict[str, Any] = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
        converted = []
        for row in rows:
            lineage = {k: row.pop(k) for k in ("_tail_from", "_chain_through") if k in row}
            for k, v in lineage.items():
                lineage[k] = datetime.fromisoformat(v) if v else None
            converted += convert_rows(entity, CUSTOMER, [row], extra | lineage).rows
        schema = dataset(PROVIDER, entity).landed_schema()
        path = self.lake().snapshot_path(PROVIDER, entity, taken_at)
        self.lake().write(pa.Table.from_pylist(converted, schema=schema), path)

    def _land_whalet(self, entity: str, rows: list[dict[str, Any]], taken_at: datetime) -> None:
        extra: dict[str, Any] = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
        converted = []
        for row in rows:
            record = whalet_record(row["currency"], Decimal(str(row["balance"])))
            converted += convert_whalet_rows(
                entity, row["account"], row["fund_source"], [record], extra
            ).rows
        schema = dataset("whalet", entity).landed_schema()
        path = self.lake().snapshot_path("whalet", entity, taken_at)
        self.lake().write(pa.Table.from_pylist(converted, schema=schema), path)

    def breaks(self) -> list[dict[str, Any]]:
        with self.connect() as con:
            cursor = con.execute("select * from fct_breaks order by check_name, break_id")
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def whalet_record(currency: str, balance: Decimal) -> dict[str, Any]:
    """A Whalet currency balance record holding `balance`, its other money objects 0."""

    def money_object(amount: Decimal, ccy: str) -> dict[str, Any]:
        return {"amount": amount, "cent": int(amount * 100), "centFactor": 100, "currency": ccy}

    zero = Decimal("0.00")
    return {
        "currency": currency,
        "balance": money_object(balance, currency),
        "orderQuota": money_object(zero, currency),
        "rmbAmount": money_object(zero, "CNY"),
        "pendingAmount": money_object(zero, currency),
        "freezeAmount": money_object(zero, currency),
    }


def load_fixture(name: str) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text()
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def matches(found: dict[str, Any], expected: dict[str, Any]) -> bool:
    """A break matches an expectation on every field the expectation names."""
    for key, want in expected.items():
        have = found.get(key)
        if isinstance(have, Decimal) and want is not None:
            if have != Decimal(str(want)):
                return False
        elif have != want:
            return False
    return True
