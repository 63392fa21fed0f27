"""Which breaks a destination is due to hear about (spec §3), from the published snapshot.

A destination is told a break when

- the break is `open` and it has not been told it is open (new, or reopened);
- the break is `resolved` and it was told it was open, or it opened after the destination's
  first alert attempt but its opening never got through (the destination was down).

An open break an analyst explained is no news while its numbers stay as explained (the run
sets its `workflow_status`); the destination remembers it as `explained`, so when the numbers
change and the break is `new` again it is told once more.

Resolved breaks that opened before a destination was first configured are history, not
news: they are not announced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from store import duck
from store.publish import Publication, read_publication

SEVERITIES = ("warn", "error")


@dataclass(frozen=True)
class AlertBreak:
    break_id: str
    status: str
    check_name: str
    severity: str
    provider: str
    account_id: str
    entity_type: str
    entity_id: str
    currency: str | None
    difference: Decimal | None
    difference_unit: str
    detail: str
    opened_at: datetime | None
    resolved_at: datetime | None
    workflow_status: str | None = None


# What a sink remembers of an open break it need not hear about: explained by an analyst.
EXPLAINED = "explained"


@dataclass
class SinkState:
    """What one sink was told: since when it is alerted, the last status per break, and the
    failed runs it was told of (newest last, the last FAILED_RUNS_KEPT)."""

    since: datetime
    announced: dict[str, str] = field(default_factory=dict)
    failed_runs: list[str] = field(default_factory=list)


# A failed run is told once; a run fails one way, so the last few hundred are plenty to
# recognise a second report of the same run (a step hook and the run-failure sensor).
FAILED_RUNS_KEPT = 200


def read_published(path: Path) -> tuple[Publication, list[AlertBreak]]:
    """The publication and the open and resolved breaks of the snapshot at `path`."""
    with duckdb.connect(str(path), read_only=True) as con:
        publication = read_publication(con)
        if publication is None:
            raise ValueError(f"{path} is not a published snapshot (no recon_publication)")
        found = [AlertBreak(*r) for r in con.execute(duck.sql_text("alert_breaks")).fetchall()]
    return publication, found


def check_severity(min_severity: str) -> str:
    if min_severity not in SEVERITIES:
        raise ValueError(f"RECON_ALERT_MIN_SEVERITY must be one of {', '.join(SEVERITIES)}")
    return min_severity


def due(
    breaks: Sequence[AlertBreak], state: SinkState, min_severity: str = "warn"
) -> list[AlertBreak]:
    """The breaks a sink with `state` has not been told about in their current status.

    Severity decides what is announced as news, never what closes: a break the sink was
    told is open is always told when it resolves, whatever the setting is now.
    """
    wanted = SEVERITIES[SEVERITIES.index(check_severity(min_severity)) :]
    return [b for b in breaks if _is_news(b, state.announced.get(b.break_id), state, wanted)]


def explained(breaks: Sequence[AlertBreak]) -> list[AlertBreak]:
    """Open breaks an analyst has explained, for numbers that still hold."""
    return [b for b in breaks if b.status == "open" and b.workflow_status == EXPLAINED]


def _is_news(b: AlertBreak, told: str | None, state: SinkState, wanted: Sequence[str]) -> bool:
    if b.status == "open":
        if b.workflow_status == EXPLAINED:
            return False
        return told != "open" and b.severity in wanted
    if b.status != "resolved" or told == "resolved":
        return False
    if told in ("open", EXPLAINED):
        return True
    # Never told: news only if it opened (and resolved) while the sink could not be told.
    return b.severity in wanted and b.opened_at is not None and b.opened_at >= state.since


@dataclass(frozen=True)
class RunFailure:
    """A run that failed: which, where, and the error as one line (no secrets: the
    connectors' messages name customers and endpoints, never keys)."""

    run_id: str
    job: str
    step: str
    error: str
    failed_at: datetime
