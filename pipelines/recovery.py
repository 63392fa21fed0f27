"""Runs that died without finishing (killed, out of memory, the host rebooted) release what
they held, so one crash never blocks the nights after it.

A run started by `recon run` carries the process that executes it (`recon/process`: pid and
the process's start time, so a reused pid is not taken for it) and the host. Before the next
run starts, and on every tick of the `recon_dead_runs` sensor under the daemon, a run of the
`recon` job that the instance still counts as starting or started, but whose process on this
host is gone, is marked failed and its warehouse pool slots are freed. Runs launched by the
daemon itself are watched by Dagster's run monitoring (deploy/dagster.yaml).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

PROCESS_TAG = "recon/process"
HOST_TAG = "recon/host"
POOL = "warehouse"
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ")" are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> dict[str, str]:
    """The tags that let a later run tell whether this run's process is still alive."""
    pid = os.getpid()
    return {PROCESS_TAG: f"{pid}:{_start_time(pid) or ''}", HOST_TAG: socket.gethostname()}


def _alive(process: str) -> bool:
    pid_text, _, started = process.partition(":")
    if not pid_text.isdigit():
        return True  # not ours to judge
    now = _start_time(int(pid_text))
    return now is not None and (not started or now == started)


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    process: str
    started: float | None
    freed_slots: int


def recover(instance: dg.DagsterInstance, job: str = "recon") -> list[DeadRun]:
    """Mark failed every unfinished run of `job` whose process on this host is gone, and free
    the pool slots it held. Returns what was recovered."""
    host = socket.gethostname()
    found: list[DeadRun] = []
    records = instance.get_run_records(dg.RunsFilter(job_name=job, statuses=UNFINISHED))
    for record in records:
        run = record.dagster_run
        process = run.tags.get(PROCESS_TAG)
        if process is None or run.tags.get(HOST_TAG) != host or _alive(process):
            continue
        held = _slots_held(instance, run.run_id)
        instance.report_run_failed(
            run,
            f"the process that ran it ({process.partition(':')[0]} on {host}) is gone: it was "
            "killed or its host went down before the run finished; marked failed by the next "
            "run, its hold on the warehouse pool released",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        found.append(DeadRun(run.run_id, process, record.start_time, held))
    return found


def _slots_held(instance: dg.DagsterInstance, run_id: str) -> int:
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return sum(1 for slot in info.claimed_slots if slot.run_id == run_id)


def pool_holders(instance: dg.DagsterInstance) -> list[str]:
    """The runs holding a warehouse pool slot now (a new run waits for them)."""
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return sorted({slot.run_id for slot in info.claimed_slots})
