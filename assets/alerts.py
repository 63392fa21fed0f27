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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from assets import duck
from assets.alerts_message import compose
from assets.files import write_atomically
from assets.publish import Publication, read_publication
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


@dataclass
class SinkState:
    """What one sink was told: since when it is alerted, and the last status per break."""

    since: datetime
    announced: dict[str, str] = field(default_factory=dict)


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


def _is_news(b: AlertBreak, told: str | None, state: SinkState, wanted: Sequence[str]) -> bool:
    if b.status == "open":
        return told != "open" and b.severity in wanted
    if b.status != "resolved" or told == "resolved":
        return False
    if told == "open":
        return True
    # Never told: news only if it opened (and resolved) while the sink could not be told.
    return b.severity in wanted and b.opened_at is not None and b.opened_at >= state.since


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
        try:
            data = json.loads(self.path.read_text())
            return {
                name: SinkState(datetime.fromisoformat(s["since"]), dict(s["announced"]))
                for name, s in data.get("sinks", {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"{self.path} cannot be read ({type(exc).__name__}); move it aside to start "
                "afresh: every destination is then told every open break again"
            ) from None

    def save(self, sinks: dict[str, SinkState]) -> None:
        data = {
            "version": 1,
            "sinks": {
                name: {"since": s.since.isoformat(), "announced": s.announced}
                for name, s in sorted(sinks.items())
            },
        }
        text = json.dumps(data, indent=1, sort_keys=True)
        write_atomically(self.path, lambda tmp: tmp.write_text(text))


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
    check_severity(min_severity)
    if not published.exists():
        log.info("alerts: nothing published yet")
        return []
    store = AlertState(state_dir)
    outcomes: list[Outcome] = []
    with store.locked() as states:
        # Read under the lock: the snapshot only moves forward, so whoever holds the lock
        # sees at least what the previous holder told, never an older run.
        publication, breaks = read_published(published)
        for sink in sinks:
            state = states.setdefault(sink.name, SinkState(since=publication.run_at))
            news = due(breaks, state, min_severity)
            if news:
                outcomes.append(_deliver(sink, state, news, publication, published, where))
            else:
                outcomes.append(Outcome(sink.name, 0, True))
            # Saved after each sink: one that delivered is not told again if a later one fails.
            store.save(states)
    return outcomes


def _deliver(
    sink: Sink,
    state: SinkState,
    news: list[AlertBreak],
    publication: Publication,
    published: Path,
    where: str,
) -> Outcome:
    try:
        sink.deliver(compose(news, publication, published, where))
    except DeliveryError as exc:
        error = str(exc)
    except Exception as exc:
        # Whatever one destination does wrong, the others are still told. Only the type:
        # the text of an unexpected error may quote a URL.
        error = f"{sink.name}: {type(exc).__name__}"
    else:
        state.announced.update({b.break_id: b.status for b in news})
        return Outcome(sink.name, len(news), True)
    log.error(f"alert not delivered, it stays pending for the next run: {error}")
    return Outcome(sink.name, len(news), False, error)
