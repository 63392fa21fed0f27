"""The asset graph is a reviewed artefact: a committed snapshot of every asset, its deps,
group, partitions and checks, and lineage that says what each model's SQL really reads."""

from __future__ import annotations

import difflib
import json
import re

from assets.recon import upstream
from store import breaks
from store.datasets import DATASETS
from store.duck import sql_text
from store.warehouse import LANDED_WINDOWS
from tests.support.graph import SNAPSHOT, graph, text


def test_the_asset_graph_is_the_committed_snapshot() -> None:
    committed, current = SNAPSHOT.read_text(), text()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            current.splitlines(keepends=True),
            "committed",
            "current",
        )
    )
    assert not diff, f"the asset graph changed; review, then `make graph`:\n{diff}"


def _names_after_from_or_join(sql: str) -> set[str]:
    """A second reading of the SQL, independent of DuckDB's parser: every name after FROM or
    JOIN that is not one of the statement's CTEs."""
    text = re.sub(r"--[^\n]*", "", sql).lower()
    read = set(re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b", text))
    ctes = set(re.findall(r"(?:\bwith|,)\s*([a-z_][a-z0-9_]*)\s+as\s*\(", text))
    return read - ctes


def test_each_model_depends_on_exactly_the_tables_its_sql_reads() -> None:
    assets = graph()["assets"]
    writers = {ds.history_table: {ds.raw_table} for ds in DATASETS if ds.history}
    writers[LANDED_WINDOWS] = {ds.raw_table for ds in DATASETS if ds.windowed}
    tables = set(assets) | set(writers) | set(breaks.CATALOGUE)
    models = [*breaks.MODELS, *breaks.HISTORY, *breaks.MARTS]
    for model in models:
        # `extract(epoch from x)` and the like also say FROM: only table names count.
        read = _names_after_from_or_join(sql_text(model)) & tables
        expected = {w for t in read for w in writers.get(t, {t})} - set(breaks.CATALOGUE) - {model}
        assert set(assets[model]["deps"]) == expected, model
        assert expected, f"{model} reads no table"
    # The checks read what they check, not every staging table.
    assert assets["chain_gap"]["deps"] == ["fct_ledger_entries", "int_ledger__unlinked"]
    assert assets["int_ledger__unlinked"]["deps"] == ["fct_ledger_entries"]
    assert assets["money_unit_mismatch"]["deps"] == [
        "stg_whalet__balances",
        "stg_whalet__platform_balances",
    ]


def test_a_model_reading_its_own_history_does_not_depend_on_itself() -> None:
    assert upstream(breaks.BREAKS) == ["int_breaks__found"]
    assert upstream(breaks.BREAK_COUNTS) == [breaks.BREAKS]


def test_every_dep_is_an_asset_the_recon_job_materialises() -> None:
    snapshot = graph()
    job = set(snapshot["jobs"]["recon"])
    deps = {d for a in snapshot["assets"].values() for d in a["deps"]}
    assert deps <= job, sorted(deps - job)
    assert set(snapshot["assets"]) == job
    # Every check model carries its asset check.
    for check in breaks.CHECK_NAMES:
        assert snapshot["assets"][check]["checks"] == ["no_open_breaks"]


def test_the_snapshot_file_is_sorted_json() -> None:
    data = json.loads(SNAPSHOT.read_text())
    assert list(data["assets"]) == sorted(data["assets"])
    assert len(data["assets"]) >= 50
