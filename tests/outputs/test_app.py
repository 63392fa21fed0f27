"""The triage app (issue 16) over a warehouse a real pipeline run published: in a real browser
(Playwright driving Debian's chromium, never a downloaded build), and over HTTP for escaping,
CSRF and the exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import openpyxl
import pytest
from playwright.sync_api import Page, sync_playwright

from outputs.amounts import money
from outputs.app.auth import SignInLimiter
from outputs.notebook import Snapshot
from store.workflow_store import WorkflowStore
from tests.support.triage import HOSTILE, USERS, Demo, Served, build_demo, serve_app

CHROMIUM = "/usr/bin/chromium"
OPEN = "status in ('open', 'pending')"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("triage"))


@pytest.fixture
def served(demo: Demo, tmp_path: Path) -> Iterator[Served]:
    # Each test starts from an empty workflow store over the same published snapshot.
    (demo.data_dir / "workflow" / "workflow.sqlite").unlink(missing_ok=True)
    with serve_app(demo, tmp_path) as s:
        yield s


def query(demo: Demo, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(demo.published), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def ids(demo: Demo, where: str = "", params: list[Any] | None = None) -> set[str]:
    sql = f"select break_id from fct_breaks where {OPEN} {where}"
    return {r[0] for r in query(demo, sql, params)}


def listed(page: Page) -> set[str]:
    """Every break id of the queue, across its pages, as the browser shows them."""
    found: set[str] = set()
    while True:
        found |= {
            str(r.get_attribute("data-break-id"))
            for r in page.locator("#queue tbody tr[data-break-id]").all()
        }
        if page.locator("#next").count() == 0:
            return found
        page.click("#next")


def test_analysts_work_the_queue_in_a_browser(demo: Demo, served: Served) -> None:
    open_ids = ids(demo)
    resolved = {
        r[0] for r in query(demo, "select break_id from fct_breaks where status = 'resolved'")
    }
    assert open_ids and resolved  # the demo has breaks the queue must leave out
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(served.base_url)
            assert listed(page) == open_ids
            assert page.locator("#total").inner_text() == str(len(open_ids))

            # The coverage page, one link away: a row per provider account and currency,
            # with fct_coverage's exact volume.
            page.click("#coverage-link")
            covered = query(
                demo, "select provider, account_id, currency, sum(volume) from fct_coverage "
                "group by all order by all",
            )  # fmt: skip
            shown = page.locator("#coverage tbody tr[data-provider]")
            assert shown.count() == len(covered) > 0
            for i, (provider, account, currency, volume) in enumerate(covered):
                row = shown.nth(i)
                assert row.get_attribute("data-provider") == provider
                assert row.get_attribute("data-account-id") == account
                assert row.locator(".volume").inner_text() == money(volume, currency, "money")

            # Filter by check, then by currency as well: the form narrows the queue.
            page.goto(served.base_url)
            page.select_option("select[name=check]", "chain_gap")
            page.click("#apply")
            gaps = ids(demo, "and check_name = 'chain_gap'")
            assert listed(page) == gaps and 1 < len(gaps) < len(open_ids)
            currency = sorted(r[0] for r in query(
                demo, f"select currency from fct_breaks where {OPEN} and check_name = 'chain_gap'"
            ))[0]  # fmt: skip
            page.select_option("select[name=currency]", currency)
            page.click("#apply")
            narrowed = ids(demo, "and check_name = 'chain_gap' and currency = ?", [currency])
            assert listed(page) == narrowed and len(narrowed) < len(gaps)
            target = sorted(narrowed)[0]

            # Anonymous: the forms are there, the post is refused, nothing is recorded.
            page.goto(f"{served.base_url}/breaks/{target}")
            page.select_option("#explain select[name=reason_code]", "timing")
            page.click("#explain button")
            assert "Sign in to act" in page.locator("#message").inner_text()
            assert WorkflowStore(served.settings.workflow_url).actions() == []

            # Signed in, alice explains the break; the queue shows it explained.
            page.goto(f"{served.base_url}/login")
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", USERS["alice"])
            page.click("button[type=submit]")
            assert "Signed in as alice" in page.locator("nav").inner_text()
            page.goto(f"{served.base_url}/breaks/{target}")
            page.select_option("#explain select[name=reason_code]", "timing")
            page.fill("#explain input[name=note]", "settles with the next statement")
            page.click("#explain button")
            assert page.url.endswith(f"/breaks/{target}")
            assert "explained" in page.locator("#workflow").inner_text()
            assert "timing" in page.locator("#workflow").inner_text()
            page.goto(f"{served.base_url}/?workflow_status=explained")
            assert listed(page) == {target}
            page.goto(served.base_url)
            row = page.locator(f"#queue tr[data-break-id='{target}']")
            assert row.get_attribute("data-workflow") == "explained"
            assert "timing" in row.inner_text()
            (action,) = WorkflowStore(served.settings.workflow_url).actions()
            (numbers,) = query(
                demo, "select expected, actual, difference from fct_breaks where break_id = ?",
                [target],
            )  # fmt: skip
            assert (action.actor, action.reason_code, action.numbers) == (
                "alice",
                "timing",
                numbers,
            )
            # No script ran anywhere, the planted ones included.
            assert page.evaluate("() => window.pwned === undefined")
        finally:
            browser.close()


def sign_in(client: httpx.Client, name: str) -> str:
    """Signs in through the login form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    done = client.post("/login", data={"name": name, "password": USERS[name], "csrf": token})
    assert done.status_code == 303
    return csrf_of(client.get("/").text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_every_page_escapes_provider_text_and_writes_need_a_csrf_token(
    demo: Demo, served: Served
) -> None:
    every = sorted({r[0] for r in query(demo, "select break_id from fct_breaks")})
    with served.client() as client, served.client() as other:
        token = sign_in(client, "alice")
        target = every[0]
        act = f"/breaks/{target}/act"
        comment = {"action": "commented", "note": HOSTILE}
        # No token, a wrong one, another session's token: refused, nothing recorded.
        other_token = csrf_of(other.get("/login").text)
        for data in (comment, comment | {"csrf": "x" * 43}, comment | {"csrf": other_token}):
            refused = client.post(act, data=data)
            assert refused.status_code == 403 and "expired" in refused.text
        assert (
            client.post("/login", data={"name": "bob", "password": USERS["bob"]}).status_code == 403
        )
        assert WorkflowStore(served.settings.workflow_url).actions() == []
        # With the token: people's text is as hostile as the provider's.
        assert client.post(act, data=comment | {"csrf": token}).status_code == 303
        assigned = {"action": "assigned", "owner": HOSTILE, "csrf": token}
        assert client.post(act, data=assigned).status_code == 303

        pages = [client.get("/"), client.get("/", params={"q": HOSTILE}), client.get("/login")]
        pages += [client.get("/coverage")]
        pages += [client.get(f"/breaks/{b}") for b in every]
        pages += [client.get("/breaks/" + HOSTILE.replace("/", "%2F"))]
        for response in pages:
            assert response.headers["content-type"].startswith("text/html")
            assert "<script" not in response.text.lower(), response.url
            assert "script-src" not in response.headers["content-security-policy"]
        shown = "".join(r.text for r in pages)
        # The hostile text did reach the pages (raw rows, the note, the owner), escaped.
        assert shown.count("&lt;script&gt;window.pwned=1&lt;/script&gt;") > len(every)


def test_exports_hold_exactly_the_filtered_rows_with_exact_amounts(
    demo: Demo, served: Served
) -> None:
    (currency,) = query(
        demo, f"select currency from fct_breaks where {OPEN} and check_name = 'chain_gap' "
        "order by currency limit 1",
    )[0]  # fmt: skip
    filters = {"check": "chain_gap", "currency": currency}
    expected = {
        r[0]: tuple(str(v) if v is not None else "" for v in r[1:])
        for r in query(
            demo,
            "select break_id, currency, expected, actual, difference from fct_breaks "
            f"where {OPEN} and check_name = 'chain_gap' and currency = ?",
            [currency],
        )
    }
    assert expected and all(v[3] for v in expected.values())
    money = ("currency", "expected", "actual", "difference")
    with served.client() as client:
        text = client.get("/export.csv", params=filters).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["break_id"]: tuple(r[c] for c in money) for r in rows} == expected
        assert len(rows) == len(expected)

        book = openpyxl.load_workbook(
            io.BytesIO(client.get("/export.xlsx", params=filters).content)
        )
        sheet = book["breaks"]
        header = [c.value for c in sheet[1]]
        cells = [
            dict(zip(header, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=2)
        ]
        assert {r["break_id"]: tuple(r[c] or "" for c in money) for r in cells} == expected
        # Text cells, never floats: Excel shows every digit.
        assert all(isinstance(r["difference"], str) for r in cells)

        everything = list(csv.DictReader(io.StringIO(client.get("/export.csv").text)))
        assert {r["break_id"] for r in everything} == ids(demo)


def test_the_notebook_api_returns_exact_dataframes(demo: Demo) -> None:
    snap = Snapshot(demo.published)
    breaks = snap.breaks()
    assert set(breaks["break_id"]) == ids(demo)
    gaps = snap.breaks(check="chain_gap")
    assert set(gaps["break_id"]) == ids(demo, "and check_name = 'chain_gap'")
    assert all(isinstance(v, Decimal) for v in gaps["difference"])
    total = sum(gaps["difference"], Decimal(0))
    (in_sql,) = query(
        demo, f"select sum(difference) from fct_breaks where {OPEN} and check_name = 'chain_gap'"
    )[0]
    assert total == in_sql
    gap = gaps.iloc[0]
    legs = snap.entries(provider="openapi", transaction_id=gap["transaction_id"])
    assert len(legs) >= 1 and all(isinstance(v, Decimal) for v in legs["after_balance"])
    history = snap.events(gap["break_id"])
    assert list(history["event"]) == ["opened"] and history["actor"][0] == "run"
    with pytest.raises(FileNotFoundError, match="RECON_DATA_DIR"):
        Snapshot(demo.data_dir / "nothing.duckdb")


def test_reads_can_be_closed_and_a_trusted_proxy_header_signs_people_in(
    demo: Demo, tmp_path: Path
) -> None:
    (demo.data_dir / "workflow" / "workflow.sqlite").unlink(missing_ok=True)
    with serve_app(demo, tmp_path, RECON_UI_PROTECT_READS="1") as closed, closed.client() as c:
        for path in ("/", "/export.csv", f"/breaks/{sorted(ids(demo))[0]}", "/coverage"):
            refused = c.get(path)
            assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
        sign_in(c, "bob")
        assert c.get("/").status_code == 200 and c.get("/coverage").status_code == 200
    header = {"RECON_UI_TRUSTED_HEADER": "X-Forwarded-User"}
    with serve_app(demo, tmp_path, **header) as proxied, proxied.client() as c:
        target = sorted(ids(demo))[0]
        token = csrf_of(c.get(f"/breaks/{target}").text)
        ack = {"action": "acknowledged", "csrf": token}
        assert c.post(f"/breaks/{target}/act", data=ack).status_code == 403
        done = c.post(f"/breaks/{target}/act", data=ack, headers={"X-Forwarded-User": "carol"})
        assert done.status_code == 303
        (action,) = WorkflowStore(proxied.settings.workflow_url).actions()
        assert (action.actor, action.action) == ("carol", "acknowledged")


def test_a_name_is_locked_out_after_five_failed_sign_ins(served: Served) -> None:
    """Over HTTP: five wrong passwords for one name, then even the right one is refused
    (429) while another name still signs in; the limiter itself counts on its clock."""
    with served.client() as c:
        token = csrf_of(c.get("/login").text)
        for _ in range(5):
            wrong = c.post("/login", data={"name": "alice", "password": "nope", "csrf": token})
            assert wrong.status_code == 401
        right = {"name": "alice", "password": USERS["alice"], "csrf": token}
        locked = c.post("/login", data=right)
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        sign_in(c, "bob")  # another name is not locked

    now = [0.0]
    limiter = SignInLimiter(attempts=2, window=60, clock=lambda: now[0])
    limiter.failed("Carol")
    assert limiter.wait_seconds("carol") == 0
    now[0] = 10
    limiter.failed("carol")
    assert limiter.wait_seconds("CAROL") == 50  # until the first failure is a window old
    now[0] = 60
    assert limiter.wait_seconds("carol") == 0
    limiter.failed("carol")
    limiter.succeeded("carol")
    assert limiter.wait_seconds("carol") == 0
    # A name tried once and never again does not stay: the next failure sweeps it out.
    limiter.failed("dave")
    now[0] = 200
    limiter.failed("erin")
    assert set(limiter._failures) == {"erin"}
