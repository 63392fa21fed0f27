"""Break alerts: who is told what, over real HTTP and SMTP receivers, through the real job."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines import cli
from pipelines.schedules import nightly_days
from sandbox import JtConfig, WhaletConfig, WorldConfig, build_world
from tests.support.harness import Harness, completed, harness
from tests.support.receivers import HttpReceiver, SmtpReceiver

WORLD = WorldConfig(seed=21, customers=2, days=4, entries_per_day=60, late_entry_rate=0.3)
NIGHT1 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
WEBHOOK, SLACK = "/hook", "/slack"


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, HttpReceiver, SmtpReceiver]]:
    """A JSON webhook receiver that starts down, a Slack receiver and an SMTP server."""
    hook, slack, smtp = HttpReceiver(), HttpReceiver(), SmtpReceiver()
    slack.start()
    smtp.start()
    try:
        yield hook, slack, smtp
    finally:
        hook.stop()
        slack.stop()
        smtp.stop()


def configure(
    monkeypatch: pytest.MonkeyPatch, hook: HttpReceiver, slack: HttpReceiver, smtp: SmtpReceiver
) -> None:
    for name, value in {
        "RECON_ALERT_WEBHOOK_URL": hook.url(WEBHOOK),
        "RECON_ALERT_SLACK_URL": slack.url(SLACK),
        "RECON_ALERT_SMTP_HOST": "127.0.0.1",
        "RECON_ALERT_SMTP_PORT": str(smtp.port),
        "RECON_ALERT_SMTP_SECURITY": "none",
        "RECON_ALERT_SMTP_FROM": "recon@example.com",
        "RECON_ALERT_SMTP_TO": "finance-ops@example.com,oncall@example.com",
    }.items():
        monkeypatch.setenv(name, value)


Statuses = dict[str, tuple[str, datetime | None, datetime | None]]


def breaks_now(h: Harness) -> Statuses:
    rows = h.query("select break_id, status, opened_at, resolved_at from fct_breaks")
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def news(before: Statuses, after: Statuses) -> tuple[int, int]:
    """(opened, resolved) a receiver that heard `before` should hear after `after`."""
    told = {b: s for b, (s, _, _) in before.items() if s in ("open", "resolved")}
    opened = sum(1 for b, (s, _, _) in after.items() if s == "open" and told.get(b) != "open")
    resolved = sum(1 for b, (s, _, _) in after.items() if s == "resolved" and told.get(b) == "open")
    return opened, resolved


def ids(payload: dict[str, Any], status: str) -> set[str]:
    return {b["break_id"] for b in payload["breaks"] if b["status"] == status}


def subject_of(opened: int, resolved: int, statuses: Statuses) -> str:
    errors = opened  # every break of this world is an error
    return (
        f"wallet-recon: {opened} breaks opened ({errors} error), {resolved} resolved"
        if opened
        else f"wallet-recon: {resolved} breaks resolved"
    )


# Slow (make soak): the default suite's budget; the other alert tests here run by default.
@pytest.mark.slow
def test_alerts_tell_each_receiver_each_change_once_and_catch_up_after_an_outage(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    receivers: tuple[HttpReceiver, HttpReceiver, SmtpReceiver],
) -> None:
    hook, slack, smtp = receivers
    world = build_world(WORLD)
    world.set_now("2026-11-11 02:00:00")
    caplog.set_level(logging.INFO, logger="recon.alerts")
    heard: list[str] = []  # the subjects Slack and email should have had, in order

    def night(n: int) -> Statuses:
        """One nightly run; checks Slack and email heard exactly what changed."""
        before = breaks_now(h) if h.published.exists() else {}
        caplog.clear()
        assert completed(h.run_job(*nightly_days(NIGHT1 + timedelta(days=n), "UTC", 3)))
        after = breaks_now(h)
        opened, resolved = news(before, after)
        if opened or resolved:
            heard.append(subject_of(opened, resolved, after))
        assert [b["text"] for b in slack.bodies(SLACK)] == heard
        assert [m["Subject"] for m in smtp.messages] == heard
        return after

    with harness(world, tmp_path, monkeypatch) as h:
        configure(monkeypatch, hook, slack, smtp)
        # Night 1: late rows leave chain gaps open. The webhook receiver is down.
        night1 = night(0)
        opened1 = {b for b, (s, _, _) in night1.items() if s == "open"}
        assert opened1 and len(heard) == 1
        assert hook.posts == [] and "stays pending for the next run" in caplog.text
        first_slack = slack.bodies(SLACK)[0]
        assert {b["type"] for b in first_slack["blocks"]} >= {"header", "section", "context"}
        assert smtp.mailbox.recipients[0] == ["finance-ops@example.com", "oncall@example.com"]
        body = smtp.messages[0].get_payload()
        assert "chain_gap" in body and "where to look:" in body and "recon breaks" in body

        # The same night again: nothing changes, so nobody hears anything; the webhook's
        # alert stays pending.
        assert night(0) == night1
        assert len(heard) == 1 and hook.posts == [] and "stays pending" in caplog.text

        # Night 2: the late rows arrive, gaps resolve; the webhook receiver is back.
        hook.start()
        world.advance(86_400)
        night2 = night(1)
        resolved = {b for b, (s, _, _) in night2.items() if s == "resolved"}
        assert len(heard) == 2 and resolved & opened1

        # The webhook gets what it missed: everything open now, and everything that opened
        # and resolved while it was down.
        (caught_up,) = hook.bodies(WEBHOOK)
        still_open = {b for b, (s, _, _) in night2.items() if s == "open"}
        assert ids(caught_up, "open") == still_open and ids(caught_up, "resolved") == resolved
        assert (caught_up["opened"], caught_up["resolved"]) == (len(still_open), len(resolved))
        assert {c["check_name"] for c in caught_up["counts"]} >= {"chain_gap"}
        assert all(isinstance(b["difference"], str | None) for b in caught_up["breaks"])

        # Night 2 again: a resolved break is announced once, to everyone.
        assert night(1) == night2
        assert len(heard) == 2 and len(hook.bodies(WEBHOOK)) == 1
        state = json.loads((h.data_dir / "alerts" / "state.json").read_text())
    told = {name: s["announced"] for name, s in state["sinks"].items()}
    assert sorted(n.split(":")[0] for n in told) == ["email", "log", "slack", "webhook"]
    # Every sink, whatever its outage, ends up told the same thing.
    assert all(t == told["log"] for t in told.values())
    final = {b: s for b, (s, _, _) in night2.items() if s != "pending"}
    assert told["log"] == final


def test_min_severity_error_leaves_warnings_out(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receivers: tuple[HttpReceiver, HttpReceiver, SmtpReceiver],
) -> None:
    hook, _, _ = receivers
    hook.start()
    cfg = replace(
        WORLD, late_entry_rate=0.0, days=2, anomalies={"fx_rate_deviation": 2, "chain_gap": 1}
    )
    world = build_world(cfg)
    with harness(world, tmp_path, monkeypatch) as h:
        monkeypatch.setenv("RECON_ALERT_WEBHOOK_URL", hook.url(WEBHOOK))
        monkeypatch.setenv("RECON_ALERT_MIN_SEVERITY", "error")
        assert completed(h.run_job(cfg.start_date, cfg.start_date + timedelta(days=1)))
        severities = dict(h.query("select severity, count(*) from fct_breaks group by 1"))
    assert severities.get("warn") and severities.get("error")
    (payload,) = hook.bodies(WEBHOOK)
    assert {b["severity"] for b in payload["breaks"]} == {"error"}
    assert payload["opened"] == severities["error"]


def test_a_wrong_setting_is_named_and_the_run_still_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(replace(WORLD, late_entry_rate=0.0, days=2))
    with harness(world, tmp_path, monkeypatch) as h:
        monkeypatch.setenv("RECON_ALERT_MIN_SEVERITY", "loud")
        result = h.run_job(WORLD.start_date, WORLD.start_date)
        assert completed(result)
        messages = [e.message for e in h.instance.all_logs(result.run_id)]
        assert h.published.exists()
    assert any("alerts not sent" in m and "RECON_ALERT_MIN_SEVERITY" in m for m in messages)


CARD_WORLD = WorldConfig(
    seed=17,
    customers=1,
    days=2,
    entries_per_day=30,
    anomalies={"card_balance_mismatch": 2, "chain_gap": 1, "order_debit_mismatch": 1},
    jt=JtConfig(users=3, records_per_day=30, anomalies={"chain_gap": 1}),
    whalet=WhaletConfig(users=1, anomalies={"money_unit_mismatch": 1}),
)
# A card number: 13 to 19 digits standing alone. Anything like it in an alert is a leak.
PAN_LIKE = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def test_no_card_number_key_or_token_in_alerts_report_or_logs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world(CARD_WORLD)
    cards = [k for c in world.customers for k in c.cards]
    hook, slack, smtp = HttpReceiver(), HttpReceiver(), SmtpReceiver(login=True)
    for running in (hook, slack, smtp):
        running.start()
    slack_secret = "T0000/B0000/XXXXsecretXXXXslackXXXX"
    smtp_password = "smtp-Pa55-not-for-logs"
    try:
        with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
            configure(monkeypatch, hook, slack, smtp)
            monkeypatch.setenv("RECON_ALERT_SLACK_URL", slack.url(f"/services/{slack_secret}"))
            monkeypatch.setenv("RECON_ALERT_SMTP_USER", "recon")
            monkeypatch.setenv("RECON_ALERT_SMTP_PASSWORD", smtp_password)
            first = CARD_WORLD.start_date
            result = h.run_job(first, first + timedelta(days=CARD_WORLD.days - 1))
            assert completed(result)
            monkeypatch.setenv("RECON_DATA_DIR", str(h.data_dir))
            assert cli.main(["report", "--out", str(tmp_path / "report.html")]) == 0
            events = [e.message for e in h.instance.all_logs(result.run_id)]
            assert h.whalet_app is not None and h.whalet_app.tokens
            provider_secrets = h.secrets()
            card_breaks = h.query(
                "select count(*) from fct_breaks where check_name = 'card_balance_mismatch'"
            )[0][0]
    finally:
        for running in (hook, slack, smtp):
            running.stop()
    alerts = [json.dumps(b) for _, b in hook.posts + slack.posts]
    alerts += [m.as_string() for m in smtp.messages]
    assert len(hook.posts) == len(slack.posts) == len(smtp.messages) == 1
    assert card_breaks and "card_balance_mismatch" in alerts[0]  # card breaks were alerted
    report = (tmp_path / "report.html").read_text()
    logs = caplog.text + capsys.readouterr().out + "\n".join(events)
    assert "alert to" in logs or "wallet-recon:" in logs  # the logs did cover the alerts
    secrets = [*(k.card_no for k in cards), *provider_secrets, slack_secret, smtp_password]
    for text in [*alerts, report, logs]:
        assert not [s for s in secrets if s in text]
        assert not [n for n in PAN_LIKE.findall(text) if luhn(n)]
        assert not re.search(r"\b(cvv|cvc|pin)\b\W{0,3}\d{3,4}", text, re.I)
    for payload in hook.posts[0][1]["breaks"]:
        assert not {"card_no", "cvv", "pin"} & set(payload)


def test_recon_alerts_sends_what_is_pending_and_then_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    receivers: tuple[HttpReceiver, HttpReceiver, SmtpReceiver],
) -> None:
    hook, _, _ = receivers
    cfg = replace(WORLD, late_entry_rate=0.0, days=2, anomalies={"chain_gap": 2})
    world = build_world(cfg)
    with harness(world, tmp_path, monkeypatch) as h:
        # Materialised without the job's hooks: nobody has been told anything yet.
        assert completed(h.run(cfg.start_date, cfg.start_date + timedelta(days=1)))
        opened = {b for (b,) in h.query("select break_id from fct_breaks where status = 'open'")}
        monkeypatch.setenv("RECON_DATA_DIR", str(h.data_dir))
        monkeypatch.setenv("RECON_ALERT_WEBHOOK_URL", hook.url(WEBHOOK))
        assert cli.main(["alerts"]) == 1  # the receiver is down: a failure, and it says so
        assert "still pending" in capsys.readouterr().out
        hook.start()
        assert cli.main(["alerts"]) == 0
        assert cli.main(["alerts"]) == 0
    (payload,) = hook.bodies(WEBHOOK)
    assert ids(payload, "open") == opened and len(opened) == 2
    told = capsys.readouterr().out.splitlines()
    assert len(told) == 4 and "2 breaks to tell; delivered" in told[1]
    assert [line.split(": ", 1)[1] for line in told[2:]] == ["nothing new"] * 2
