"""The analyst docs against a real published warehouse: the data dictionary names every mart
column and nothing else, DuckDB carries its text as comments, and every query of the analyst
guide runs read-only, with the project's DuckDB and with the oldest one the guide promises."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sandbox import JtConfig, WhaletConfig, WorldConfig, build_world
from sandbox.config import ANOMALY_KINDS, JT_ANOMALY_KINDS, WHALET_ANOMALY_KINDS
from store.duck import STORAGE_VERSION
from store.publish import DICTIONARY, MART_PREFIXES, read_dictionary
from tests.support import query_reader
from tests.support.duckdb_lts import LTS, read_with_lts
from tests.support.harness import completed, harness

GUIDE = DICTIONARY.with_name("analyst-guide.md")
# Small, but with one planted anomaly of every kind of every provider: every check has a break,
# so the guide's queries about gaps, exchanges, cards and lineage have something to find.
WORLD = WorldConfig(
    seed=17,
    customers=1,
    days=2,
    entries_per_day=20,
    anomalies=dict.fromkeys(ANOMALY_KINDS, 1),
    jt=JtConfig(users=3, records_per_day=30, anomalies=dict.fromkeys(JT_ANOMALY_KINDS, 1)),
    whalet=WhaletConfig(users=1, anomalies=dict.fromkeys(WHALET_ANOMALY_KINDS, 1)),
)
# Tables the dictionary describes outside the marts, under "### <table>" headings.
OTHER_TABLES = (
    "recon_publication",
    "recon_checks",
    "recon_settings",
    "quarantine",
    "landed_windows",
)
TABLE_HEADER = re.compile(r"^\|\s*column\s*\|\s*type\s*\|\s*meaning\s*\|\s*$")
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```\s*$", re.S | re.M)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The snapshot one real pipeline run published."""
    world = build_world(WORLD)
    tmp = tmp_path_factory.mktemp("docs")
    last = WORLD.start_date + timedelta(days=WORLD.days - 1)
    with pytest.MonkeyPatch.context() as mp, harness(world, tmp, mp, all_providers=True) as h:
        assert completed(h.run(WORLD.start_date, last))
        published = h.data_dir / "warehouse.duckdb"
    assert published.exists()
    yield published


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def columns_of(path: Path, tables: list[str]) -> dict[str, dict[str, str]]:
    """Each table's columns and their DuckDB types, in the published snapshot."""
    out: dict[str, dict[str, str]] = {t: {} for t in tables}
    for table, column, data_type in query(
        path,
        "select table_name, column_name, data_type from duckdb_columns() "
        "where list_contains(?, table_name) order by table_name, column_index",
        [tables],
    ):
        out[table][column] = data_type
    return out


def mart_names(path: Path) -> list[str]:
    rows = query(path, "select table_name from duckdb_tables() order by table_name")
    return [t for (t,) in rows if t.startswith(MART_PREFIXES)]


def documented_types(text: str) -> dict[str, dict[str, str]]:
    """`| column | type | meaning |` tables of the dictionary, by the `##` mart or `###` table
    heading above them: column name to the type the docs give (a cell may name several)."""
    tables: dict[str, dict[str, str]] = {}
    heading: str | None = None
    in_table = False
    for line in text.splitlines():
        if match := re.match(r"^#{2,3}\s+`?([a-z0-9_]+)`?\s*$", line):
            heading, in_table = match[1], False
        elif line.startswith("#"):
            heading, in_table = None, False
        elif heading and TABLE_HEADER.match(line):
            in_table = True
        elif in_table and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].startswith("`"):
                for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
                    tables.setdefault(heading or "", {})[name] = cells[1]
        else:
            in_table = False
    return tables


def plain(text: str) -> str:
    return re.sub(r"[`*]", "", text).strip()


def guide_sections() -> list[tuple[str, str, str, str]]:
    """(heading, prose before, sql, prose after) for every sql block of the analyst guide."""
    text = GUIDE.read_text()
    out = []
    for match in SQL_BLOCK.finditer(text):
        before = text[: match.start()]
        heading = re.findall(r"^#+ (.+)$", before, re.M)[-1]
        after = text[match.end() :].split("\n#", 1)[0]
        prose_before = before.rsplit("```", 1)[-1].split(f"{heading}\n", 1)[-1]
        out.append((heading, prose_before.strip(), match[1], after.strip()))
    return out


def run_block(path: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return names, cursor.fetchall()


def test_the_dictionary_names_every_mart_column_and_nothing_else(warehouse: Path) -> None:
    marts = mart_names(warehouse)
    assert {"fct_ledger_entries", "fct_breaks", "fct_break_counts", "fct_card_activity"} <= set(
        marts
    )
    real = columns_of(warehouse, marts)
    docs = read_dictionary()
    assert sorted(docs) == marts, "the dictionary's marts are the warehouse's"
    for mart in marts:
        documented = docs[mart].columns
        missing = [c for c in real[mart] if c not in documented]
        invented = [c for c in documented if c not in real[mart]]
        assert not missing, f"{mart}: columns the dictionary lacks: {missing}"
        assert not invented, f"{mart}: columns the dictionary invents: {invented}"
        assert "Grain: one row per" in docs[mart].description, mart
        for column, meaning in documented.items():
            assert len(plain(meaning)) >= 15 and meaning.endswith("."), (mart, column, meaning)


def test_the_dictionary_gives_each_column_its_real_type(warehouse: Path) -> None:
    """Marts and the other documented tables: every column with the type DuckDB reports."""
    documented = documented_types(DICTIONARY.read_text())
    tables = [*mart_names(warehouse), *OTHER_TABLES]
    assert sorted(documented) == sorted(tables)
    for table, real in columns_of(warehouse, tables).items():
        assert documented[table] == real, table


def test_the_published_snapshot_carries_the_dictionary_as_comments(warehouse: Path) -> None:
    docs = read_dictionary()
    table_comments = dict(
        query(
            warehouse,
            "select table_name, comment from duckdb_tables() where list_contains(?, table_name)",
            [list(docs)],
        )
    )
    assert table_comments == {name: plain(doc.description) for name, doc in docs.items()}
    for name, doc in docs.items():
        comments = dict(
            query(
                warehouse,
                "select column_name, comment from duckdb_columns() where table_name = ?",
                [name],
            )
        )
        assert comments == {c: plain(text) for c, text in doc.columns.items()}, name
        assert all(comments.values()), name


def test_the_guide_has_ten_worked_queries_each_explained() -> None:
    worked = [s for s in guide_sections() if re.match(r"\d+\. ", s[0])]
    assert [int(h.split(".")[0]) for h, *_ in worked] == list(range(1, 11))
    for heading, before, sql, after in worked:
        assert before.endswith("?") or before.endswith("."), (heading, before)
        assert len(before) > 40 and len(after) > 80, heading
        if "params as (" in sql or "set variable" in sql:
            # A query about one break, card or wallet says how to choose another.
            assert re.search(r"^\s*-- .*write instead", sql, re.M), heading


def test_every_query_of_the_guide_runs_read_only(warehouse: Path) -> None:
    sections = guide_sections()
    assert len(sections) >= 10
    results: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for heading, _, sql, _ in sections:
        results[heading.split(" ", 1)[0].rstrip(".")] = run_block(warehouse, sql)
    # Queries the planted anomalies (and every world's cards and exchanges) give rows to.
    for number in ("1", "2", "3", "4", "5", "6", "7", "8", "10"):
        assert results[number][1], f"query {number} found nothing"

    (open_count,) = query(warehouse, "select count(*) from fct_breaks where status = 'open'")[0]
    names, rows = results["1"]
    assert sum(r[names.index("open_breaks")] for r in rows) == open_count
    names, rows = results["2"]
    checks = {c for (c,) in query(warehouse, "select check_name from recon_checks")}
    assert {r[names.index("check_name")] for r in rows} == checks
    names, rows = results["3"]  # one run: every open break opened in it
    assert len(rows) == open_count and {r[names.index("change")] for r in rows} == {"opened"}
    names, rows = results["4"]
    assert len(rows) == 1 and rows[0][names.index("opened")] == open_count


def test_the_chain_query_shows_the_gap_the_break_reports(warehouse: Path) -> None:
    (sql,) = [s for h, _, s, _ in guide_sections() if h.startswith("5. ")]
    names, rows = run_block(warehouse, sql)
    by_role = {r[names.index("role")]: r for r in rows if r[names.index("role")]}
    assert set(by_role) == {"last entry before the gap", "first entry after the gap"}
    after = by_role["first entry after the gap"]
    breaks = query(
        warehouse,
        "select difference from fct_breaks where check_name = 'chain_gap' and transaction_id = ?",
        [after[names.index("transaction_id")]],
    )
    assert breaks and after[names.index("jump")] == breaks[0][0] != Decimal(0)
    # Entries either side of the gap are shown, and the chain links everywhere else.
    assert len(rows) > 2
    jumps = [r[names.index("jump")] for r in rows if r is not after]
    assert all(j in (None, Decimal(0)) for j in jumps)


def test_the_lineage_query_reads_the_breaks_row_from_its_landed_file(warehouse: Path) -> None:
    (sql,) = [s for h, _, s, _ in guide_sections() if h.startswith("10. ")]
    names, rows = run_block(warehouse, sql)
    assert len(rows) == 1
    row = dict(zip(names, rows[0], strict=False))
    brk = query(
        warehouse,
        "select actual, source_file from fct_breaks "
        "where check_name = 'entry_arithmetic' and transaction_id = ?",
        [row["transaction_id"]],
    )
    # entry_arithmetic's actual is the entry's amount: the landed file holds it as sent.
    assert brk == [(row["amount"], row["source_file"])]
    assert Path(row["source_file"]).is_file()


def test_duckdb_1_4_opens_the_snapshot_and_every_query_of_the_guide_gives_the_same_rows(
    warehouse: Path,
) -> None:
    """Analysts' CLIs and JDBC/ODBC drivers of the 1.4 LTS line open the published file: a
    DuckDB 1.4 of its own virtualenv reads it read-only, in the storage version the guide
    names, and answers every query of the guide as the pipeline's DuckDB does."""
    queries = [sql for _, _, sql, _ in guide_sections()]
    theirs = read_with_lts(warehouse, queries)
    assert theirs["duckdb_version"].startswith(f"{LTS}.")
    guide = GUIDE.read_text()
    assert f"storage version `{STORAGE_VERSION}`" in guide and f"DuckDB {LTS}" in guide
    assert theirs["storage_version"] == f"{STORAGE_VERSION}+"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ours = [query_reader.results(con, sql) for sql in queries]
    assert len(ours) >= 10 and all("rows" in r for r in ours), ours
    assert sum(len(r["rows"]) for r in ours) > 50
    for sql, mine, old in zip(queries, ours, theirs["results"], strict=True):
        assert old == mine, sql
