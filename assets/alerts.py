"""Break alerts: what became `open` or `resolved` since each sink was last told (spec §3).

The alerter reads the published snapshot (read-only, so it never waits for the pipeline's
lock) and keeps, per sink, the status it last announced for each break in
`$RECON_DATA_DIR/alerts/state.json`. A sink is told a break when

- the break is `open` and the sink has not been told it is open (new, or reopened);
- the break is `resolved` and the sink was told it was open, or it opened after the sink's
  first alert attempt but its opening never got through (the sink was down).

State advances only for a sink that delivered, so an alert that failed goes out with the
next run; a second run with no change tells nobody anything. Resolved breaks that opened
before a sink was first configured are history, not news: they are not announced.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from assets.alerts_message import compose
from connectors.notify import DeliveryError, Sink

log = logging.getLogger("recon.alerts")

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


@dataclass(frozen=True)
class Publication:
    path: Path
    run_id: str
    run_at: datetime


@dataclass
class SinkState:
    """What one sink was told: since when it is alerted, and the last status per break."""

    since: datetime
    announced: dict[str, str] = field(default_factory=dict)


def read_published(path: Path, min_severity: str) -> tuple[Publication, list[AlertBreak]]:
    """The open and resolved breaks of the published snapshot at or above `min_severity`."""
    if min_severity not in SEVERITIES:
        raise ValueError(f"RECON_ALERT_MIN_SEVERITY must be one of {SEVERITIES}")
    wanted = list(SEVERITIES[SEVERITIES.index(min_severity) :])
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("select run_id, run_at from recon_publication").fetchone()
        if row is None:
            raise ValueError(f"{path} says no run: recon_publication is empty")
        cursor = con.execute(
            """
            select
                breaks.break_id, breaks.status, breaks.check_name, breaks.severity,
                breaks.provider, cast(breaks.account_id as varchar), breaks.entity_type,
                breaks.entity_id, breaks.currency, breaks.difference, checks.difference_unit,
                breaks.detail, breaks.opened_at, breaks.resolved_at
            from fct_breaks as breaks
            inner join recon_checks as checks on breaks.check_name = checks.check_name
            where breaks.status in ('open', 'resolved') and list_contains(?, breaks.severity)
            order by breaks.break_id
            """,
            [wanted],
        )
        found = [AlertBreak(*r) for r in cursor.fetchall()]
    return Publication(path, str(row[0]), row[1]), found


def due(breaks: Sequence[AlertBreak], state: SinkState) -> list[AlertBreak]:
    """The breaks a sink with `state` has not been told about in their current status."""
    out: list[AlertBreak] = []
    for b in breaks:
        told = state.announced.get(b.break_id)
        if b.status == "open" and told != "open":
            out.append(b)
        elif b.status == "resolved" and told != "resolved":
            missed_opening = told is None and b.opened_at is not None and b.opened_at >= state.since
            if told == "open" or missed_opening:
                out.append(b)
    return out


class AlertState:
    """The per-sink memory, one JSON file written atomically, used under a file lock so
    two alerters (a run's hook and `recon alerts`, say) never announce the same thing twice."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.json"
        self._lock = folder / ".lock"

    @contextmanager
    def locked(self) -> Iterator[dict[str, SinkState]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, SinkState]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text())
        return {
            name: SinkState(datetime.fromisoformat(s["since"]), dict(s["announced"]))
            for name, s in data.get("sinks", {}).items()
        }

    def save(self, sinks: dict[str, SinkState]) -> None:
        data = {
            "version": 1,
            "sinks": {
                name: {"since": s.since.isoformat(), "announced": s.announced}
                for name, s in sorted(sinks.items())
            },
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(temporary, self.path)


@dataclass(frozen=True)
class Outcome:
    sink: str
    announced: int
    delivered: bool
    error: str | None = None


def send_alerts(
    published: Path,
    state_dir: Path,
    sinks: Sequence[Sink],
    min_severity: str = "warn",
    where: str = "",
) -> list[Outcome]:
    """Tell every sink what changed for it since it was last told; returns what happened."""
    if not published.exists():
        log.info("alerts: nothing published yet")
        return []
    publication, breaks = read_published(published, min_severity)
    store = AlertState(state_dir)
    outcomes: list[Outcome] = []
    with store.locked() as states:
        for sink in sinks:
            state = states.setdefault(sink.name, SinkState(since=publication.run_at))
            news = due(breaks, state)
            if not news:
                outcomes.append(Outcome(sink.name, 0, True))
                store.save(states)
                continue
            try:
                sink.deliver(compose(news, publication, where))
            except DeliveryError as exc:
                log.error(f"alert not delivered, it stays pending for the next run: {exc}")
                outcomes.append(Outcome(sink.name, len(news), False, str(exc)))
            else:
                state.announced.update({b.break_id: b.status for b in news})
                outcomes.append(Outcome(sink.name, len(news), True))
            # Saved after each sink: one that delivered is not told again if a later one fails.
            store.save(states)
    return outcomes
