"""`recon sql`: SQL on the published snapshot through the real `recon` command, one query
with -c or a shell reading standard input, and never a write to the snapshot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from sandbox import WorldConfig, build_world
from tests.support.harness import completed, harness

WORLD = WorldConfig(seed=5, customers=1, days=2, anomalies={"chain_gap": 1, "duplicate_entry": 1})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with the snapshot one real pipeline run published."""
    tmp = tmp_path_factory.mktemp("sql")
    last = WORLD.start_date + timedelta(days=WORLD.days - 1)
    with pytest.MonkeyPatch.context() as mp, harness(build_world(WORLD), tmp, mp) as h:
        assert completed(h.run(WORLD.start_date, last))
    yield h.data_dir


def recon_sql(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_HOME"))}
    env["RECON_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(Path(sys.executable).with_name("recon")), "sql", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=data_dir,
    )


def query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_lines(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()]


def test_one_query_with_c_prints_its_rows_as_a_table(data_dir: Path) -> None:
    sql = "select check_name, count(*) as breaks from fct_breaks group by all order by 1"
    done = recon_sql(data_dir, "-c", sql)
    assert done.returncode == 0, done.stderr
    expected = query(data_dir, sql)
    assert {"chain_gap", "duplicate_entry"} <= {name for name, _ in expected}
    lines = table_lines(done.stdout)
    assert lines[0] == ["check_name", "breaks"]
    assert lines[2 : 2 + len(expected)] == [[name, str(n)] for name, n in expected]
    assert lines[-1] == [f"({len(expected)}", "rows)"]
    # Several statements run in order, as query 10 of the analyst guide has them.
    done = recon_sql(data_dir, "-c", "set variable n = 41; select getvariable('n') + 1 as answer")
    assert done.returncode == 0 and table_lines(done.stdout) == [
        ["answer"], ["------"], ["42"], ["(1", "row)"]
    ]  # fmt: skip


def test_a_wrong_query_exits_2_with_duckdbs_message_on_one_line(data_dir: Path) -> None:
    done = recon_sql(data_dir, "-c", "select * from no_such_table")
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        "recon: error: Catalog Error: Table with name no_such_table does not exist!"
    )
    done = recon_sql(data_dir, "-c", "selec 1")
    assert done.returncode == 2
    assert done.stderr == 'recon: error: Parser Error: syntax error at or near "selec"\n'


def test_recon_sql_never_writes_the_snapshot(data_dir: Path) -> None:
    published = data_dir / "warehouse.duckdb"
    before = (published.read_bytes(), published.stat().st_mtime_ns)
    tables = query(data_dir, "select table_name from duckdb_tables() order by 1")
    done = recon_sql(data_dir, "-c", "create table x(i int)")
    assert done.returncode == 2
    assert done.stderr == (
        'recon: error: Invalid Input Error: Cannot execute statement of type "CREATE" on '
        'database "warehouse" which is attached in read-only mode!\n'
    )
    writes = (
        "drop table fct_breaks;",
        "delete from fct_breaks;",
        "comment on table fct_breaks is 'changed';",
        "checkpoint;",
    )
    shell = recon_sql(data_dir, stdin="\n".join(writes))
    assert shell.returncode == 0
    refused = shell.stderr.splitlines()
    assert len(refused) == 3 and all("read-only mode" in line for line in refused), refused
    assert (published.read_bytes(), published.stat().st_mtime_ns) == before
    assert query(data_dir, "select table_name from duckdb_tables() order by 1") == tables
    assert sorted(p.name for p in data_dir.glob("warehouse.duckdb*")) == ["warehouse.duckdb"]


def test_the_shell_answers_each_statement_says_errors_and_ends_at_quit(data_dir: Path) -> None:
    script = (
        ".tables\n"
        "select count(*) as breaks\n"
        "from fct_breaks;\n"
        "select * from no_such_table;\n"
        ".no_such_command\n"
        "select 42 as answer;\n"
        ".quit\n"
        "select 'after quit' as never;\n"
    )
    done = recon_sql(data_dir, stdin=script)
    assert done.returncode == 0, done.stderr
    lines = table_lines(done.stdout)
    assert ["fct_breaks", "BASE", "TABLE"] in lines
    assert ["recon_publication", "BASE", "TABLE"] in lines
    ((breaks,),) = query(data_dir, "select count(*) from fct_breaks")
    assert isinstance(breaks, int) and breaks > 0
    assert [str(breaks)] == lines[lines.index(["breaks"]) + 2]
    assert lines[-4:-1] == [["answer"], ["------"], ["42"]]
    assert "never" not in done.stdout
    errors = done.stderr.splitlines()
    assert len(errors) == 2 and "Traceback" not in done.stderr
    assert errors[0].startswith("Error: Catalog Error: Table with name no_such_table")
    assert errors[1] == "Error: unknown command .no_such_command; .help lists them"
    # Without .quit the shell ends with its input, running a last statement that lacks ';'.
    done = recon_sql(data_dir, stdin="select 7 as seven")
    assert done.returncode == 0 and table_lines(done.stdout)[:3] == [["seven"], ["-----"], ["7"]]


def test_recon_sql_without_a_published_warehouse_says_what_to_run(tmp_path: Path) -> None:
    done = recon_sql(tmp_path, "-c", "select 1")
    assert done.returncode == 2
    assert done.stderr == (
        f"recon: error: no warehouse at {tmp_path / 'warehouse.duckdb'}: "
        "run `recon run` or `recon demo` first\n"
    )
