"""The models kept up to date by key are declared the way their SQL reads.

A maintained model re-derives a unit from the input rows of that unit only; an input its SQL
reads but the declaration misses would never have its changes applied, and a unit column that
is not a column would fail only on the night something changed. tests/pipelines/
test_incremental.py shows the result equals a full rebuild; these catch a declaration that
drifts from its SQL before any night runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from store import breaks, duck, maintain
from store.warehouse import ensure_raw_tables


@pytest.mark.parametrize("model", list(maintain.MAINTAINED))
def test_a_maintained_model_declares_every_table_its_sql_reads(model: str) -> None:
    assert duck.tables_read(model) == set(maintain.MAINTAINED[model].inputs)


def test_unit_columns_are_columns_of_the_model_and_its_inputs(tmp_path: Path) -> None:
    with duck.connect_file(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        breaks.write_catalogue(con, breaks.Settings())
        now = datetime(2026, 11, 12)
        for m in (*maintain.STAGING, *maintain.RECON):
            maintain.build_whole(con, m.model, now)
        for m in maintain.MAINTAINED.values():
            columns = {r[0] for r in con.execute(f"describe {m.model}").fetchall()}
            assert set(m.unit) <= columns, m.model
            for table, cols in m.inputs.items():
                have = {r[0] for r in con.execute(f"describe {table}").fetchall()}
                assert len(cols) == len(m.unit) and set(cols) <= have, (m.model, table)


def test_a_model_rebuilt_whole_sends_its_readers_to_a_whole_rebuild(tmp_path: Path) -> None:
    with duck.connect_file(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        now = datetime(2026, 11, 12)
        for m in (*maintain.STAGING, *maintain.RECON):
            maintain.build_whole(con, m.model, now)
        assert all(maintain.is_maintainable(con, m) for m in maintain.MAINTAINED)
        # Its changes are unknown to the models that read it.
        maintain.build_whole(con, "stg_openapi__transactions", now)
        readers = set(maintain.readers("stg_openapi__transactions"))
        assert {"fct_ledger_entries", "int_exchanges__paired", "int_orders__debits"} <= readers
        assert not any(maintain.is_maintainable(con, m) for m in readers)
        assert maintain.is_maintainable(con, "stg_openapi__transactions")
        assert maintain.is_maintainable(con, "stg_openapi__orders")
        # A model whose SQL is not the one it was built from is rebuilt whole too.
        con.execute(
            f"update {maintain.MODELS_TABLE} set sql_hash = 'older' "
            "where model = 'stg_openapi__orders'"
        )
        assert not maintain.is_maintainable(con, "stg_openapi__orders")
