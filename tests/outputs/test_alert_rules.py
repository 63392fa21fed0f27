"""Alert rules that need no pipeline run: severity changes, one destination failing, settings
that are wrong, and what httpx may log about a webhook. A tiny published snapshot is made by
hand in real DuckDB."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest

from assets.resources import AlertResource
from connectors.notify import Alert, LogSink, webhook_sink
from outputs.alert_message import amount
from outputs.alert_rules import SinkState, due
from outputs.alerts import AlertState, send_alerts
from tests.support.alert_breaks import T0, brk

RUN = datetime(2026, 11, 12, 2, 0)


def snapshot(path: Path, breaks: list[tuple[str, str, str, datetime | None]]) -> Path:
    """A published snapshot with (break_id, status, severity, opened_at) breaks."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table recon_publication as select 'run-1' as run_id, "
            "?::timestamp as run_at, ?::timestamp as published_at",
            [RUN, RUN],
        )
        con.execute(
            "create table recon_checks as select * from (values "
            "('chain_gap', 'error', 'wallet', 'rule', 'money'), "
            "('fx_rate_deviation', 'warn', 'exchange', 'rule', 'rate')) "
            "t(check_name, severity, entity_type, rule, difference_unit)"
        )
        con.execute(
            "create table fct_breaks (break_id varchar, status varchar, check_name varchar, "
            "severity varchar, provider varchar, account_id varchar, entity_type varchar, "
            "entity_id varchar, currency varchar, difference decimal(38, 8), detail varchar, "
            "opened_at timestamp, resolved_at timestamp, workflow_status varchar)"
        )
        for break_id, status, severity, opened_at in breaks:
            check = "chain_gap" if severity == "error" else "fx_rate_deviation"
            con.execute(
                "insert into fct_breaks values (?, ?, ?, ?, 'openapi', '10001', 'wallet', "
                "'10001:USD', 'USD', -1.5, 'a finding', ?, null, 'new')",
                [break_id, status, check, severity, opened_at],
            )
    return path


@dataclass
class Recording:
    """A destination that keeps what it is told."""

    name: str = "recording"
    alerts: list[Alert] = field(default_factory=list)

    def deliver(self, alert: Alert) -> None:
        self.alerts.append(alert)


@dataclass(frozen=True)
class Broken:
    name: str = "broken"

    def deliver(self, alert: Alert) -> None:
        raise RuntimeError("https://hooks.example.com/services/SECRET went wrong")


def test_a_break_told_open_is_told_resolved_whatever_the_severity_setting_is_now() -> None:
    state = SinkState(since=T0, announced={"w": "open"})
    warn = brk("w", "resolved", severity="warn")
    assert due([warn], state, "error") == [warn]
    assert due([brk("x", "open", severity="warn")], state, "error") == []
    with pytest.raises(ValueError, match="RECON_ALERT_MIN_SEVERITY"):
        due([warn], state, "loud")


def test_one_destination_failing_does_not_keep_the_others_from_being_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    published = snapshot(tmp_path / "warehouse.duckdb", [("a", "open", "error", RUN)])
    recording = Recording()
    outcomes = send_alerts(published, tmp_path / "alerts", [Broken(), LogSink(), recording])
    assert [(o.sink, o.delivered) for o in outcomes] == [
        ("broken", False),
        ("log", True),
        ("recording", True),
    ]
    assert outcomes[0].error == "broken: RuntimeError"
    assert "SECRET" not in caplog.text and len(recording.alerts) == 1
    # The broken one is still owed the alert; the others are not told twice.
    again = send_alerts(published, tmp_path / "alerts", [Broken(), LogSink(), recording])
    assert [o.announced for o in again] == [1, 0, 0] and len(recording.alerts) == 1


def test_a_damaged_state_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"sinks": {"log": ')
    damaged = pytest.raises(ValueError, match=r"state\.json cannot be read.*move it aside")
    with damaged, AlertState(tmp_path).locked():
        pass


def test_a_wrong_setting_costs_its_own_destination_only(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "https://hooks.example.com:44x/services/T0/B0/SECRET"
    monkeypatch.setenv("RECON_ALERT_WEBHOOK_URL", secret)
    monkeypatch.setenv("RECON_ALERT_SLACK_URL", "https://hooks.slack.example/services/T/B/ok")
    monkeypatch.setenv("RECON_ALERT_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("RECON_ALERT_SMTP_SECURITY", "none")
    monkeypatch.setenv("RECON_ALERT_SMTP_USER", "recon")
    monkeypatch.setenv("RECON_ALERT_SMTP_FROM", "recon@example.com")
    monkeypatch.setenv("RECON_ALERT_SMTP_TO", "ops@example.com")
    sinks, problems = AlertResource().sinks()
    assert [s.name.split(":")[0] for s in sinks] == ["log", "slack"]
    assert len(problems) == 2 and "SECRET" not in " ".join(problems)
    assert "RECON_ALERT_WEBHOOK_URL" in problems[0]
    assert "in clear" in problems[1]
    monkeypatch.setenv("RECON_ALERT_SMTP_HOST", "127.0.0.1")  # a relay on this machine
    assert [s.name.split(":")[0] for s in AlertResource().sinks()[0]] == ["log", "slack", "email"]


def test_httpx_never_logs_a_webhooks_path_query_or_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    webhook_sink("http://user:pa55word@127.0.0.1:9/hook/s3cr3t?token=s3cr3t tok")
    httpx_log = logging.getLogger("httpx")
    url = "http://user:pa55word@127.0.0.1:9/hook/s3cr3t?token=s3cr3t%20tok"
    httpx_log.info(f'HTTP Request: POST {url} "HTTP/1.1 200 OK"')
    httpx_log.info(
        'HTTP Request: POST %s "HTTP/1.1 200 OK"', httpx.URL("http://127.0.0.1:9/h/%C3%A9")
    )
    httpx_log.info('HTTP Request: POST http://provider.example/v1/wallets "HTTP/1.1 200 OK"')
    assert "s3cr3t" not in caplog.text and "pa55word" not in caplog.text
    assert "%C3%A9" not in caplog.text
    assert "http://127.0.0.1:9/…" in caplog.text
    assert "http://provider.example/v1/wallets" in caplog.text  # other hosts keep their path


def test_first_contact_tells_what_is_open_but_not_old_history() -> None:
    state = SinkState(since=T0)
    breaks = [
        brk("a", "open"),
        brk("b", "resolved", opened_at=T0 - timedelta(days=3)),  # before alerting began
        brk("c", "resolved", opened_at=T0),  # opened and resolved while the sink was down
        brk("d", "pending", opened_at=None),
    ]
    assert [b.break_id for b in due(breaks, state)] == ["a", "c"]


def test_told_once_then_silent_until_the_status_changes() -> None:
    state = SinkState(since=T0, announced={"a": "open", "b": "resolved"})
    assert due([brk("a", "open"), brk("b", "resolved")], state) == []
    resolved = due([brk("a", "resolved"), brk("b", "resolved")], state)
    assert [(b.break_id, b.status) for b in resolved] == [("a", "resolved")]
    reopened = due([brk("b", "open")], state)
    assert [(b.break_id, b.status) for b in reopened] == [("b", "open")]


def test_an_explained_break_is_no_news_until_it_is_new_again() -> None:
    state = SinkState(since=T0, announced={"a": "explained", "b": "open"})
    # Explained since the sink was told it opened, or before it was told at all: silence.
    explained = [brk(i, "open", workflow_status="explained") for i in ("a", "b", "c")]
    assert due(explained, state) == []
    # Its numbers changed, the run made it new again: told once more.
    again = due([brk("a", "open", workflow_status="new"), *explained[1:]], state)
    assert [(b.break_id, b.status) for b in again] == [("a", "open")]
    # Resolution by data is news whatever analysts said.
    gone = due([brk("a", "resolved", workflow_status="explained")], state)
    assert [(b.break_id, b.status) for b in gone] == [("a", "resolved")]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    store = AlertState(tmp_path)
    with store.locked() as states:
        states["log"] = SinkState(since=T0, announced={"a": "open"})
        store.save(states)
    with AlertState(tmp_path).locked() as again:
        assert again["log"].announced == {"a": "open"} and again["log"].since == T0


def test_amounts_keep_their_currency_and_unit() -> None:
    assert amount(brk("a", "open", difference=Decimal("-8075.68"))) == "USD -8,075.68"
    assert amount(brk("a", "open", difference=Decimal("0.123"))) == "USD 0.123"
    minor = brk("a", "open", difference=Decimal("59"), difference_unit="minor")
    assert amount(minor) == "USD 59 cents"
    rate = brk("a", "open", difference=Decimal("61.50000000"), difference_unit="rate")
    assert amount(rate) == "61.5 (rate)"
