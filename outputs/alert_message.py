"""The words of a break alert: counts per check and severity, the largest differences with
their currency, and where to look, as plain text (log, email), a JSON payload and a Slack
message. Only mart fields go in (ids, amounts, the check's sentence), never card data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.money import currency_exponent
from connectors.notify import Alert
from outputs.alert_rules import AlertBreak, RunFailure
from outputs.amounts import money
from store.publish import Publication

LARGEST = 5
# A JSON receiver gets every break up to this many; beyond, the counts still say how many.
PAYLOAD_BREAKS = 1000


def amount(b: AlertBreak) -> str:
    """The difference as an analyst reads it, with its unit (the report's wording)."""
    return money(b.difference, b.currency, b.difference_unit)


def _magnitude(b: AlertBreak) -> Decimal:
    # Ranked in major units (cents scaled by the currency's exponent) without converting
    # currencies: "largest" means the largest number, which the currency beside it qualifies.
    # A rate deviation is not money and is not ranked.
    if b.difference is None or b.difference_unit == "rate":
        return Decimal(-1)
    size = abs(b.difference)
    if b.difference_unit == "minor":
        return size.scaleb(-currency_exponent(b.currency or ""))
    return size


def largest(news: Sequence[AlertBreak], status: str, n: int = LARGEST) -> list[AlertBreak]:
    chosen = [b for b in news if b.status == status and _magnitude(b) >= 0]
    return sorted(chosen, key=lambda b: (-_magnitude(b), b.break_id))[:n]


def counts(news: Sequence[AlertBreak]) -> list[tuple[str, str, int, int]]:
    """(check_name, severity, opened, resolved), errors first."""
    tally: Counter[tuple[str, str, str]] = Counter(
        (b.check_name, b.severity, b.status) for b in news
    )
    keys = sorted({(c, s) for c, s, _ in tally}, key=lambda k: (k[1] != "error", k[0]))
    return [(c, s, tally[c, s, "open"], tally[c, s, "resolved"]) for c, s in keys]


def subject(news: Sequence[AlertBreak]) -> str:
    opened = sum(1 for b in news if b.status == "open")
    resolved = len(news) - opened
    errors = sum(1 for b in news if b.status == "open" and b.severity == "error")
    return (
        f"wallet-recon: {opened} breaks opened ({errors} error), {resolved} resolved"
        if opened
        else f"wallet-recon: {resolved} breaks resolved"
    )


def _line(b: AlertBreak) -> str:
    return (
        f"{b.check_name}  {b.provider} {b.account_id}  {b.entity_type} {b.entity_id}  "
        f"{amount(b)}  [{b.break_id}] {b.detail}"
    )


def text(news: Sequence[AlertBreak], publication: Publication, where: str) -> str:
    rows = counts(news)
    width = max([len("check"), *(len(c) for c, _, _, _ in rows)])
    lines = [
        subject(news),
        f"run {publication.run_id}, checks at {publication.run_at:%Y-%m-%d %H:%M:%S} UTC",
        "",
        f"{'check'.ljust(width)}  severity  opened  resolved",
        *(f"{c.ljust(width)}  {s.ljust(8)}  {o:>6}  {r:>8}" for c, s, o, r in rows),
    ]
    for status, title in (("open", "largest new differences"), ("resolved", "largest resolved")):
        top = largest(news, status)
        if top:
            lines += ["", title, *(f"  {_line(b)}" for b in top)]
    lines += ["", f"where to look: {where}"]
    return "\n".join(lines)


def _as_dict(b: AlertBreak) -> dict[str, Any]:
    return {
        "break_id": b.break_id,
        "status": b.status,
        "check_name": b.check_name,
        "severity": b.severity,
        "provider": b.provider,
        "account_id": b.account_id,
        "entity_type": b.entity_type,
        "entity_id": b.entity_id,
        "currency": b.currency,
        "difference": b.difference,
        "difference_unit": b.difference_unit,
        "detail": b.detail,
        "opened_at": _utc(b.opened_at),
        "resolved_at": _utc(b.resolved_at),
    }


def _utc(at: datetime | None) -> str | None:
    # The warehouse keeps UTC run times without a zone; a receiver gets them with it.
    return None if at is None else at.replace(tzinfo=UTC).isoformat()


def payload(
    news: Sequence[AlertBreak], publication: Publication, warehouse: Path, where: str
) -> dict[str, Any]:
    opened = sum(1 for b in news if b.status == "open")
    return {
        "source": "wallet-recon",
        "summary": subject(news),
        "run_id": publication.run_id,
        "run_at": _utc(publication.run_at),
        "warehouse": str(warehouse),
        "opened": opened,
        "resolved": len(news) - opened,
        "counts": [
            {"check_name": c, "severity": s, "opened": o, "resolved": r}
            for c, s, o, r in counts(news)
        ],
        "largest": [_as_dict(b) for s in ("open", "resolved") for b in largest(news, s)],
        "breaks": [_as_dict(b) for b in news[:PAYLOAD_BREAKS]],
        "breaks_truncated": len(news) > PAYLOAD_BREAKS,
        "where_to_look": where,
    }


def _slack_escape(value: str) -> str:
    # Slack mrkdwn treats <, > and & as control characters (links, mentions).
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(news: Sequence[AlertBreak], publication: Publication, where: str) -> dict[str, Any]:
    rows = counts(news)
    table = "\n".join(
        [f"{'check':<24} {'severity':<8} {'opened':>6} {'resolved':>8}"]
        + [f"{c:<24} {s:<8} {o:>6} {r:>8}" for c, s, o, r in rows]
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject(news)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{_slack_escape(table)}```"}},
    ]
    for status, title in (("open", "Largest new differences"), ("resolved", "Largest resolved")):
        top = largest(news, status)
        if top:
            items = "\n".join(f"• {_slack_escape(_line(b))}" for b in top)
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"*{title}*\n{items}"[:3000]},
                }
            )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _slack_escape(
                        f"run {publication.run_id} · checks at "
                        f"{publication.run_at:%Y-%m-%d %H:%M:%S} UTC · {where}"
                    ),
                }
            ],
        }
    )
    return {"text": subject(news), "blocks": blocks}


def compose(
    news: Sequence[AlertBreak], publication: Publication, warehouse: Path, where: str
) -> Alert:
    return Alert(
        subject=subject(news),
        text=text(news, publication, where),
        payload=payload(news, publication, warehouse, where),
        slack=slack(news, publication, where),
    )


def compose_failure(failure: RunFailure, where: str) -> Alert:
    """A failed run in every shape: it says the ledger was not checked, not that it broke."""
    title = f"wallet-recon: run failed in step {failure.step}"
    when = f"{failure.failed_at:%Y-%m-%d %H:%M:%S} UTC"
    text = "\n".join(
        [
            title,
            f"run {failure.run_id} of job {failure.job}, failed at {when}",
            f"error: {failure.error}",
            "",
            "Nothing new was published: the last snapshot and its breaks still stand.",
            f"where to look: {where}" if where else "where to look: the run in the Dagster UI",
        ]
    )
    payload = {
        "source": "wallet-recon",
        "event": "run_failed",
        "summary": title,
        "run_id": failure.run_id,
        "job": failure.job,
        "step": failure.step,
        "error": failure.error,
        "failed_at": _utc(failure.failed_at),
        "where_to_look": where,
    }
    slack = {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _slack_escape(f"run {failure.run_id} · {when}\nerror: {failure.error}"),
                },
            },
        ],
    }
    return Alert(subject=title, text=text, payload=payload, slack=slack)
