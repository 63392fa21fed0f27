"""A warehouse made before JT and Whalet keeps working: its quarantine is upgraded in place."""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.warehouse import ensure_raw_tables


def test_quarantine_keyed_by_customer_id_becomes_account_id(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute(
            "create table quarantine (provider varchar, entity varchar, customer_id bigint, "
            "row_key varchar, reason varchar, raw varchar, window_start timestamp, "
            "window_end timestamp, fetched_at timestamp, _source_file varchar)"
        )
        con.execute(
            "insert into quarantine values ('openapi', 'transactions', 10001001, 'T1|1|USD', "
            "'amount: not an exact number', '{}', null, null, null, 'a.parquet')"
        )
        ensure_raw_tables(con)
        ensure_raw_tables(con)  # and again: nothing left to upgrade
        columns = dict(
            con.execute("select column_name, column_type from (describe quarantine)").fetchall()
        )
        kept = con.execute("select account_id, row_key from quarantine").fetchall()
    assert "customer_id" not in columns and columns["account_id"] == "VARCHAR"
    assert kept == [("10001001", "T1|1|USD")]
