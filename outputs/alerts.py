"""Break alerts: what became `open` or `resolved` since each sink was last told (spec §3).

The alerter reads the published snapshot (read-only, so it never waits for the pipeline's
lock) and keeps, per sink, the status it last announced for each break in
`$RECON_DATA_DIR/alerts/state.json`; what a sink is due to hear is `outputs.alert_rules`.

State advances only for a sink that delivered, so an alert that failed goes out with the
next run; a second run with no change tells nobody anything.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors.notify import DeliveryError, Sink
from outputs.alert_message import compose, compose_failure
from outputs.alert_rules import (
    EXPLAINED,
    FAILED_RUNS_KEPT,
    AlertBreak,
    RunFailure,
    SinkState,
    check_severity,
    due,
    explained,
    read_published,
)
from store.files import write_atomically
from store.publish import Publication

log = logging.getLogger("recon.alerts")


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
                name: SinkState(
                    datetime.fromisoformat(s["since"]),
                    dict(s["announced"]),
                    [str(r) for r in s.get("failed_runs", [])],
                )
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
                name: {
                    "since": s.since.isoformat(),
                    "announced": s.announced,
                    "failed_runs": s.failed_runs[-FAILED_RUNS_KEPT:],
                }
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
            # Remembered without a word: when its numbers change it is news again (once).
            state.announced.update({b.break_id: EXPLAINED for b in explained(breaks)})
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


def send_failure(
    state_dir: Path, sinks: Sequence[Sink], failure: RunFailure, where: str = ""
) -> list[Outcome]:
    """Tell every sink that a run failed, once per run and sink: a step's failure hook and
    the run-failure sensor may both report the same run."""
    store = AlertState(state_dir)
    outcomes: list[Outcome] = []
    alert = compose_failure(failure, where)
    with store.locked() as states:
        for sink in sinks:
            state = states.setdefault(sink.name, SinkState(since=failure.failed_at))
            if failure.run_id in state.failed_runs:
                outcomes.append(Outcome(sink.name, 0, True))
                continue
            try:
                sink.deliver(alert)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:
                error = f"{sink.name}: {type(exc).__name__}"  # only the type, as for breaks
            else:
                state.failed_runs.append(failure.run_id)
                store.save(states)
                outcomes.append(Outcome(sink.name, 1, True))
                continue
            log.error(f"failure alert for run {failure.run_id} not delivered: {error}")
            outcomes.append(Outcome(sink.name, 1, False, error))
    return outcomes
