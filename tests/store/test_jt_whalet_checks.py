"""jt_balance_composition and money_unit_mismatch over small hand-written readings, through the
real convert -> Parquet -> load -> staging -> reconcile path, across runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from connectors.jt.rows import convert_rows as jt_rows
from connectors.whalet.rows import convert_rows as whalet_rows
from store import breaks, duck
from store.datasets import dataset
from store.lake import Lake, lake_root
from store.landing.common import write_snapshot
from store.warehouse import STAGING, ensure_raw_tables, load_new_snapshots

APP = "app-1"
FIRST = datetime(2026, 11, 10, 2, 30)


def user(mch_uuid: str, base: int, cod: int, balance: int | None = None) -> dict[str, Any]:
    total = base + cod if balance is None else balance
    return {"mchUuid": mch_uuid, "balance": total, "baseBalance": base, "codBalance": cod}


def totals(balance: int, base: int, cod: int, users: int) -> dict[str, Any]:
    return {
        "totalBalance": balance,
        "totalBaseBalance": base,
        "totalCodBalance": cod,
        "total": users,
    }


def money(amount: str, cent: int) -> dict[str, Any]:
    return {"amount": Decimal(amount), "cent": cent, "centFactor": 100, "currency": "USD"}


class Warehouse:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runs = 0

    def deliver(
        self,
        users: list[dict[str, Any]] | None = None,
        user_totals: dict[str, Any] | None = None,
        balances: dict[str, list[dict[str, Any]]] | None = None,
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        """One run: the readings given land and load; then every model and fct_breaks."""
        taken_at = FIRST + timedelta(days=self.runs)
        self.runs += 1
        snapshot: dict[str, datetime | None] = {"_snapshot_at": taken_at, "_fetched_at": taken_at}
        readings: list[tuple[str, str, list[dict[str, Any]]]] = []
        if users is not None:
            chain: dict[str, datetime | None] = {"_tail_from": None, "_chain_through": None}
            readings.append(("jt", "users", jt_rows("users", APP, users, snapshot | chain).rows))
        if user_totals is not None:
            rows = jt_rows("user_totals", APP, [user_totals], snapshot).rows
            readings.append(("jt", "user_totals", rows))
        if balances is not None:
            rows = [
                row
                for user_id, records in balances.items()
                for row in whalet_rows("balances", user_id, "B2C", records, snapshot).rows
            ]
            readings.append(("whalet", "balances", rows))
        lake = Lake.local(lake_root(self.data_dir))
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb")) as con:
            ensure_raw_tables(con)
            for provider, entity, rows in readings:
                ds = dataset(provider, entity)
                write_snapshot(lake, ds, rows, [], taken_at)
                load_new_snapshots(con, lake, ds)
            for model in STAGING:
                duck.build_model(con, model)
            breaks.reconcile(con, breaks.Settings(), taken_at)
            cursor = con.execute("select * from fct_breaks")
            names = [d[0] for d in cursor.description or []]
            found = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return {(b["check_name"], b["account_id"], b["entity_id"]): b for b in found}


def test_totals_that_change_while_the_users_do_not_open_a_break_and_resolve_it(
    tmp_path: Path,
) -> None:
    w = Warehouse(tmp_path)
    users = [user("JT1", 50_000, 30_000), user("JT2", 10_000, 0)]
    assert w.deliver(users, totals(90_000, 60_000, 30_000, 2)) == {}
    # The users are read again unchanged (and not loaded again); only totalBalance moved.
    found = w.deliver(users, totals(95_000, 60_000, 30_000, 2))
    brk = found["jt_balance_composition", APP, "totalBalance"]
    assert brk["status"] == "open" and brk["entity_type"] == "user_totals"
    assert (brk["expected"], brk["actual"], brk["difference"]) == (
        Decimal("900.00"),
        Decimal("950.00"),
        Decimal("50.00"),
    )
    assert set(found) == {("jt_balance_composition", APP, "totalBalance")}
    found = w.deliver(users, totals(90_000, 60_000, 30_000, 2))
    assert found["jt_balance_composition", APP, "totalBalance"]["status"] == "resolved"


def test_a_user_whose_parts_do_not_add_up_is_a_break_until_it_is_no_longer_listed(
    tmp_path: Path,
) -> None:
    w = Warehouse(tmp_path)
    odd = user("JT9", 20_000, 16_000, balance=36_500)
    found = w.deliver([user("JT1", 100, 0), odd], totals(36_600, 20_100, 16_000, 2))
    brk = found["jt_balance_composition", APP, "JT9"]
    assert brk["status"] == "open" and brk["entity_type"] == "user"
    assert (brk["expected"], brk["actual"]) == (Decimal("360.00"), Decimal("365.00"))
    # Totals are the sums of what JT reported, so they add up: no totals break.
    assert ("jt_balance_composition", APP, "totalBalance") not in found
    found = w.deliver([user("JT1", 100, 0)], totals(100, 100, 0, 1))
    assert found["jt_balance_composition", APP, "JT9"]["status"] == "resolved"


def test_a_money_object_whose_cents_disagree_is_a_break_until_it_is_no_longer_reported(
    tmp_path: Path,
) -> None:
    w = Warehouse(tmp_path)
    good = {"currency": "USD", "balance": money("24.77", 2477)}
    bad = {"currency": "USD", "balance": money("24.77", 2470), "pendingAmount": money("0.5", 50)}
    found = w.deliver(balances={"W1": [bad], "W2": [good]})
    assert set(found) == {("money_unit_mismatch", "W1", "B2C:USD:balance")}
    brk = found["money_unit_mismatch", "W1", "B2C:USD:balance"]
    assert (brk["expected"], brk["actual"], brk["difference"]) == (
        Decimal("2477"),
        Decimal("2470"),
        Decimal("-7"),
    )
    assert "2477 cents" in brk["detail"] and "2470 cents" in brk["detail"]
    found = w.deliver(balances={"W2": [good]})  # W1 is no longer configured
    assert found["money_unit_mismatch", "W1", "B2C:USD:balance"]["status"] == "resolved"
