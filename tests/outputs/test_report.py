"""The HTML report, read back as a browser would: a real warehouse from the real pipeline (two
runs over a small world with an anomaly of every kind), the page parsed with html.parser, and
each view held against what SQL over the marts says."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest

from outputs.amounts import money
from outputs.report import write_report
from outputs.report_data import MAX_POINTS, MAX_WALLETS, RunPoint
from outputs.report_svg import nice_ticks, runs_svg, time_ticks
from pipelines.cli import main
from sandbox import JtConfig, WhaletConfig, WorldConfig, build_world
from tests.support.harness import completed, harness

WORLD = WorldConfig(
    seed=23,
    customers=2,
    days=2,
    entries_per_day=30,
    anomalies={
        "entry_arithmetic": 1,
        "chain_gap": 1,
        "duplicate_entry": 1,
        "wallet_balance_mismatch": 1,
        "fx_missing_leg": 1,
        "fx_amount_mismatch": 1,
        "order_debit_missing": 1,
        "card_balance_mismatch": 1,
    },
    jt=JtConfig(
        users=3,
        records_per_day=30,
        anomalies={"jt_balance_composition": 2, "chain_gap": 1, "entry_arithmetic": 1},
    ),
    whalet=WhaletConfig(users=1, anomalies={"money_unit_mismatch": 1}),
)
VOID = {"meta", "br", "link", "img", "input", "hr", "col", "source", "base", "area", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parts: list[Node | str] = field(default_factory=list)  # elements and text, in order

    @property
    def children(self) -> list[Node]:
        return [p for p in self.parts if isinstance(p, Node)]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all(self, tag: str | None = None, cls: str | None = None) -> Iterator[Node]:
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                yield child
            yield from child.all(tag, cls)

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        (found,) = list(self.all(tag, cls))
        return found

    def content(self) -> str:
        return "".join(p if isinstance(p, str) else p.content() for p in self.parts)


class Tree(HTMLParser):
    """The page as nested nodes; raises on a stray end tag, so bad nesting is caught too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].parts.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].parts.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)
        if self.stack[-1].tag == "style":
            self.styles.append(data)


def parse(page: str) -> Tree:
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert tree.stack == [tree.root], "every element is closed"
    return tree


def table_rows(node: Node) -> list[dict[str, str]]:
    table = node.one("table")
    headers = [th.content() for th in table.all("th")]
    return [
        dict(zip(headers, [td.content() for td in tr.all("td")], strict=True))
        for tr in table.one("tbody").all("tr")
    ]


@dataclass
class Built:
    data_dir: Path
    runs: int

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def report(
        self, out: Path, max_wallets: int = MAX_WALLETS, max_points: int = MAX_POINTS
    ) -> Tree:
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as con:
            write_report(con, out, max_wallets=max_wallets, max_points=max_points)
        return parse(out.read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Two runs: the first day, then both (so the over-time chart has two points)."""
    tmp_path = tmp_path_factory.mktemp("report")
    first = WORLD.start_date
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        harness(build_world(WORLD), tmp_path, monkeypatch, all_providers=True) as h,
    ):
        assert completed(h.run(first, first))
        assert completed(h.run(first, first + timedelta(days=WORLD.days - 1)))
        yield Built(h.data_dir, runs=2)


@pytest.fixture(scope="module")
def page(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return built.report(tmp_path_factory.mktemp("page") / "report.html")


def test_the_page_loads_nothing_from_anywhere(page: Tree) -> None:
    for node in page.root.all():
        assert node.tag not in ("script", "link", "iframe", "object", "embed", "img"), node.tag
        for name, value in node.attrs.items():
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster"):
                lowered = value.strip().lower()
                assert not lowered.startswith(("http:", "https:", "//", "data:")), (name, value)
    css = "".join(page.styles).lower()
    assert css and "@import" not in css and "url(" not in css and "@font-face" not in css


def test_header_names_the_published_run_and_totals_by_status(page: Tree, built: Built) -> None:
    header = page.root.one("header")
    ((run_id, run_at),) = built.query("select run_id, run_at from recon_publication")
    assert run_id in header.content() and run_at.strftime("%Y-%m-%d %H:%M:%S") in header.content()
    expected = dict(built.query("select status, count(*) from fct_breaks group by status"))
    totals = {t.attrs["data-status"]: int(t.one("b").content()) for t in header.all(cls="total")}
    assert totals == {s: expected.get(s, 0) for s in ("open", "pending", "resolved")}
    assert totals["open"] >= 10


def test_breaks_by_check_provider_and_day_are_the_marts_counts(page: Tree, built: Built) -> None:
    per_check = {
        (c, p): (o, pe, r)
        for c, p, o, pe, r in built.query(
            "select check_name, provider, count(*) filter (status = 'open'), "
            "count(*) filter (status = 'pending'), count(*) filter (status = 'resolved') "
            "from fct_breaks group by all"
        )
    }
    shown = {
        (r["check"], r["provider"]): (int(r["open"]), int(r["pending"]), int(r["resolved"]))
        for r in table_rows(page.root.one(cls="by-check-provider"))
    }
    assert shown == per_check
    assert {p for _, p in shown} == {"openapi", "jt", "whalet"}

    days = table_rows(page.root.one(cls="by-day"))
    summed: Counter[tuple[str, str]] = Counter()
    for r in days:
        summed[r["check"], r["provider"]] += int(r["all"])
        assert int(r["all"]) == int(r["open"]) + int(r["pending"]) + int(r["resolved"])
    assert summed == {k: sum(v) for k, v in per_check.items()}
    # An entry's break counts on the day the entry was booked.
    booked = built.query(
        "select distinct b.check_name, b.provider, cast(e.transaction_time as date) "
        "from fct_breaks b join fct_ledger_entries e on b.provider = e.provider "
        "and b.account_id = e.account_id and b.transaction_id = e.transaction_id "
        "and b.currency = e.currency where b.check_name = 'entry_arithmetic'"
    )
    assert len(booked) == 2
    listed = {(r["check"], r["provider"], date.fromisoformat(r["day"])) for r in days}
    assert set(booked) <= listed


def test_open_breaks_over_time_has_a_point_per_run(page: Tree, built: Built) -> None:
    runs = built.query(
        "select strftime(run_at, '%Y-%m-%d %H:%M:%S'), sum(open_breaks), sum(pending_breaks) "
        "from fct_break_counts group by run_at order by run_at"
    )
    assert len(runs) == built.runs
    points = list(page.root.one(cls="runs").all("g", "run-point"))
    shown = [
        (p.attrs["data-run-at"], int(p.attrs["data-open"]), int(p.attrs["data-pending"]))
        for p in points
    ]
    assert shown == [(at, int(o), int(pe)) for at, o, pe in runs]
    # Each bar says its number, so one run alone still reads.
    assert [p.one("text", "value").content().split()[0] for p in points] == [
        str(o) for _, o, _ in runs
    ]


def wallet_of_each_break(built: Built) -> dict[str, tuple[str, str, str] | None]:
    """Where each break belongs, worked out independently of the report's SQL."""
    wallets = {
        (p, a, w) for p, a, w in built.query(
            "select distinct provider, account_id, wallet_key from fct_ledger_entries"
        )
    }  # fmt: skip
    legs: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for p, a, t, c, w in built.query(
        "select provider, account_id, transaction_id, currency, wallet_key "
        "from fct_ledger_entries order by in_out_type"
    ):
        legs.setdefault((p, a, t), []).append((c, w))
    placed: dict[str, tuple[str, str, str] | None] = {}
    for bid, p, a, kind, eid, tid, cur in built.query(
        "select break_id, provider, account_id, entity_type, entity_id, transaction_id, currency "
        "from fct_breaks"
    ):
        if kind in ("wallet", "user"):
            placed[bid] = (p, a, eid) if (p, a, eid) in wallets else None
        elif tid is not None and (p, a, tid) in legs:
            options = legs[p, a, tid]
            same = [w for c, w in options if c == cur]
            placed[bid] = (p, a, (same or [options[0][1]])[0])
        else:
            placed[bid] = None
    return placed


def test_one_balance_chart_per_wallet_with_its_break_markers(page: Tree, built: Built) -> None:
    placed = wallet_of_each_break(built)
    expected = Counter(w for w in placed.values() if w is not None)
    articles = list(page.root.all("article", "wallet"))
    charted = {
        (a.attrs["data-provider"], a.attrs["data-account-id"], a.attrs["data-wallet-key"]): a
        for a in articles
    }
    assert len(charted) == len(articles) == len(expected)
    assert set(charted) == set(expected)
    for key, article in charted.items():
        assert len(list(article.all("svg"))) == 1
        markers = list(article.all("g", "break-marker"))
        assert len(markers) == expected[key], key
        assert {m.attrs["data-break-id"] for m in markers} == {
            b for b, w in placed.items() if w == key
        }
        assert len(table_rows(article)) == len(markers)
        line = article.one("polyline", "balance-line").attrs["points"].split()
        ((entries,),) = built.query(
            "select count(*) from fct_ledger_entries where provider = ? and account_id = ? "
            "and wallet_key = ?",
            list(key),
        )
        assert len(line) == entries  # small wallets are not downsampled
    # The openapi and JT ledgers both have charted wallets; the rest is listed.
    assert {p for p, _, _ in charted} == {"openapi", "jt"}
    unplaced = table_rows(page.root.one(cls="unplaced"))
    assert len(unplaced) == sum(1 for w in placed.values() if w is None)
    assert {r["check"] for r in unplaced} >= {"card_balance_mismatch", "money_unit_mismatch"}


def test_a_chain_gap_is_marked_at_the_entry_after_the_gap(page: Tree, built: Built) -> None:
    gaps = built.query(
        "select provider, entity_id, transaction_id, currency, difference from fct_breaks "
        "where check_name = 'chain_gap'"
    )
    assert {g[0] for g in gaps} == {"openapi", "jt"}
    for provider, wallet_key, transaction_id, currency, difference in gaps:
        article = next(
            a
            for a in page.root.all("article", "wallet")
            if a.attrs["data-provider"] == provider and a.attrs["data-wallet-key"] == wallet_key
        )
        (row,) = [r for r in table_rows(article) if r["check"] == "chain_gap"]
        assert row["entry"] == transaction_id
        assert row["difference"] == f"{currency} {difference:,.2f}"  # money with its currency


def test_long_chains_are_downsampled_and_wallets_capped_keeping_break_points(
    built: Built, tmp_path: Path
) -> None:
    page = built.report(tmp_path / "small.html", max_wallets=2, max_points=8)
    articles = list(page.root.all("article", "wallet"))
    assert len(articles) == 2
    text = page.root.content()
    assert "Showing the 2 wallets with the most open breaks" in text
    for article in articles:
        line = article.one("polyline", "balance-line").attrs["points"].split()
        markers = list(article.all("g", "break-marker"))
        assert 2 <= len(line) <= 8 + 2 + len(markers)
        assert "Downsampled" in article.content()
        coordinates = set(line)
        for marker in markers:
            circle = marker.one("circle")
            assert f"{circle.attrs['cx']},{circle.attrs['cy']}" in coordinates


def test_text_from_the_data_comes_out_escaped(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "data" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(built.data_dir / "warehouse.duckdb", copy)
    hostile = "<script>alert('x')</script>"
    with duckdb.connect(str(copy)) as con:
        con.execute("update fct_breaks set detail = ? where check_name = 'chain_gap'", [hostile])
        con.execute(
            "update fct_breaks set entity_id = ?, currency = ? "
            "where check_name = 'card_balance_mismatch'",
            ['<img src="https://example.com/x.png">', "U&D"],
        )
        con.execute("update recon_publication set run_id = ?", ['"><b>run</b>'])
    out = tmp_path / "report.html"
    with duckdb.connect(str(copy), read_only=True) as con:
        write_report(con, out)
    raw = out.read_text()
    assert "<script" not in raw and "<img" not in raw and "<b>run" not in raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in raw
    assert "U&amp;D" in raw
    tree = parse(raw)
    assert hostile in tree.root.content()
    assert not list(tree.root.all("script")) and not list(tree.root.all("img"))


def test_recon_report_writes_the_page_and_prints_its_path(
    built: Built,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECON_DATA_DIR", str(built.data_dir))
    out = tmp_path / "out" / "r.html"
    assert main(["report", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert "Reconciliation report" in out.read_text()

    monkeypatch.setenv("RECON_DATA_DIR", str(tmp_path / "empty"))
    assert main(["report"]) == 2
    assert "no warehouse at" in capsys.readouterr().err


def test_recon_report_default_path_is_under_the_data_directory(
    built: Built,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(built.data_dir / "warehouse.duckdb", data / "warehouse.duckdb")
    monkeypatch.setenv("RECON_DATA_DIR", str(data))
    assert main(["report"]) == 0
    default = data / "reports" / "recon-report.html"
    assert capsys.readouterr().out.strip() == str(default) and default.exists()


def test_one_run_is_one_labelled_bar() -> None:
    run = RunPoint(datetime(2026, 11, 21, 7, 54, 23), 21, 2, 0, 23, 0)
    svg = parse(runs_svg([run]))
    (point,) = list(svg.root.all("g", "run-point"))
    assert point.one("text", "value").content() == "21 +2"
    assert "2026-11-21 07:54" in svg.root.content()


def test_axis_ticks_are_round() -> None:
    assert nice_ticks(0, 21) == [0, 10, 20, 30]
    assert nice_ticks(95_000, 455_000)[0] <= 95_000 and nice_ticks(95_000, 455_000)[-1] >= 455_000
    week = time_ticks(datetime(2026, 11, 9, 0, 1), datetime(2026, 11, 15, 23, 54))
    assert week == [datetime(2026, 11, 9) + timedelta(days=d) for d in range(8)]
    hours = time_ticks(datetime(2026, 11, 9, 9, 10), datetime(2026, 11, 9, 17, 5))
    assert hours[0] == datetime(2026, 11, 9, 8) and hours[-1] == datetime(2026, 11, 9, 18)


def test_amounts_show_their_currency_or_unit() -> None:
    assert money(Decimal("-8576.33000000"), "THB", "money") == "THB -8,576.33"
    assert money(Decimal("-22.00000000"), "USD", "minor") == "USD -22 cents"
    assert money(Decimal("0.00122389"), "EUR", "rate") == "0.00122389 (rate)"
    assert money(None, "USD", "money") == ""


def test_the_headline_gives_the_amount_at_risk_per_currency_and_links_into_the_app(
    built: Built, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    with duckdb.connect(str(built.data_dir / "warehouse.duckdb"), read_only=True) as con:
        write_report(con, out, ui_url="https://recon.example/ui/")
        expected = con.execute(
            "select b.currency, sum(abs(b.difference)) from fct_breaks b "
            "inner join recon_checks c on b.check_name = c.check_name "
            "where b.status = 'open' and c.difference_unit = 'money' and b.difference is not null "
            "group by 1 order by 1"
        ).fetchall()
    page = out.read_text()
    line = page[page.index('id="at-risk"') :]
    line = line[: line.index("</p>")]
    assert expected and "the sum of the absolute differences" in line
    for currency, amount in expected:
        assert f"<b>{money(amount, currency, 'money')}</b>" in line
        assert f"https://recon.example/ui/?status=open&amp;currency={currency}" in line
    assert 'id="app-link" href="https://recon.example/ui/"' in page
    with duckdb.connect(str(built.data_dir / "warehouse.duckdb"), read_only=True) as con:
        write_report(con, out)
    assert "recon.example" not in out.read_text() and 'id="at-risk"' in out.read_text()


def test_coverage_sums_back_to_the_ledger_and_the_page_shows_it(page: Tree, built: Built) -> None:
    # Per provider and day, fct_coverage holds exactly the loaded entries and volume.
    per_day = built.query(
        "select provider, day, sum(entries)::bigint, sum(volume) from fct_coverage "
        "group by all order by all"
    )
    ledger = built.query(
        "select provider, cast(transaction_time as date), count(*), sum(amount) "
        "from fct_ledger_entries group by all order by all"
    )
    assert per_day == ledger and {p for p, *_ in per_day} == {"openapi", "jt"}
    rows = table_rows(page.root.one(cls="coverage"))
    expected = built.query(
        "select provider, account_id, currency, sum(entries)::bigint, sum(volume), "
        "sum(chain_verified_volume) from fct_coverage group by all order by all"
    )
    assert len(rows) == len(expected)
    for row, (provider, account, currency, entries, volume, chained) in zip(
        rows, expected, strict=True
    ):
        assert (row["provider"], row["account"], row["currency"]) == (provider, account, currency)
        assert int(row["entries"]) == entries
        assert row["volume"] == money(volume, currency, "money")
        share = (chained * 100 / volume).quantize(Decimal("0.1"), "ROUND_HALF_UP")
        assert row["chain-linked"] == f"{share}%"
        # The anomalies broke some links, and most of the ledger still links.
        assert 0 < chained <= volume
