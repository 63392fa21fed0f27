"""Running the `recon` job in this process, and reading what it published: what `recon` and
`recon demo` share.

A run's settings come from its resources, as for a scheduled run: by default each resource
reads the environment when the run builds it. `config` (resource key -> fields) sets fields
for one run instead; it is stored with the run in the Dagster instance, so it never holds a
secret, only the names of files that do.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from assets.resources import WarehouseResource, no_provider_configured
from outputs.report import write_report as render_report
from outputs.tables import render
from pipelines import exit_codes
from pipelines.alerts import tell_dead_run
from pipelines.definitions import defs
from pipelines.instance import open_instance
from pipelines.recovery import UNFINISHED, pool_holders, recover, this_process
from pipelines.resources import Resources, RunConfig
from pipelines.schedules import range_tags
from store import duck
from store.breaks import open_error_breaks


def progress_to_terminal() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    progress = logging.getLogger("recon")
    progress.setLevel(logging.INFO)
    if not progress.handlers:
        progress.addHandler(handler)
    # httpx logs every request at INFO; retries are reported by recon.http already.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run_days(
    first: date, last: date, config: RunConfig | None = None, fail_on_breaks: bool = False
) -> int:
    """Materialise the pipeline for first..last (inclusive) as one Dagster run.

    Open breaks are findings, not a failed run: the summary shows them, and only
    `fail_on_breaks` turns open error breaks into a non-zero exit.
    """
    config = config or {}
    resources = Resources.build(config)
    warehouse = resources.warehouse
    unconfigured = no_provider_configured(resources.providers())
    if unconfigured:
        raise ValueError(unconfigured)
    progress_to_terminal()
    instance = open_instance(warehouse)
    release_dead_runs(instance, resources)
    for provider in resources.providers():
        if not provider.is_configured():
            setting = provider.setting("BASE_URL")
            print(f"note: {provider.label} is not configured ({setting} unset); it is skipped")
    print(
        f"recon: loading {first} .. {last} into {warehouse.warehouse_path()}, "
        f"published to {warehouse.published_path()} after the checks"
    )
    result = defs.resolve_job_def("recon").execute_in_process(
        instance=instance,
        tags=range_tags(first, last) | this_process(),
        raise_on_error=False,
        run_config={
            "resources": {key: {"config": dict(fields)} for key, fields in config.items()},
            # Progress and errors are printed by recon itself (below and via the `recon`
            # logger); Dagster's console would repeat each of them.
            "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        },
    )
    if _print_failures(result):
        return exit_codes.FAILED
    print_row_counts(warehouse)
    open_errors = print_break_summary(warehouse)
    if fail_on_breaks and open_errors:
        print(f"recon: {open_errors} open error breaks (--fail-on-breaks)", file=sys.stderr)
        return exit_codes.OPEN_BREAKS
    return exit_codes.OK


def release_dead_runs(instance: dg.DagsterInstance, resources: Resources) -> None:
    """Runs that died holding the warehouse pool would block this one for good: they are
    marked failed first (and alerted); a pool held by a live run is said, not waited on
    silently."""
    for dead in recover(instance):
        print(
            f"recon: run {dead.run_id} died without finishing (its process is gone); "
            f"marked failed, {dead.freed_slots} warehouse pool slot(s) released",
            file=sys.stderr,
        )
        log = logging.getLogger("recon")
        tell_dead_run(resources.warehouse, resources.alerts, dead.run_id, log)
    alive = instance.get_run_records(dg.RunsFilter(job_name="recon", statuses=UNFINISHED))
    oldest = min([r.start_time or r.create_timestamp.timestamp() for r in alive], default=None)
    for tmp in resources.warehouse.remove_stale_temporaries(
        oldest if oldest is not None else time.time()
    ):
        print(f"recon: removed {tmp}, left by a writer that was killed", file=sys.stderr)
    holders = pool_holders(instance)
    if holders:
        print(
            f"recon: waiting for the warehouse pool (one writer at a time), held by run "
            f"{', '.join(holders)}; this run's warehouse steps start when it finishes",
            file=sys.stderr,
        )


def _print_failures(result: dg.ExecuteInProcessResult) -> bool:
    """Print each failed step's innermost error; True if any step failed."""
    failed = False
    own = ("connectors.", "store.", "outputs.", "assets.", "pipelines.")
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            # Dagster wraps the asset's exception; the innermost cause is what went wrong.
            while error is not None and error.cause is not None:
                error = error.cause
            message = error.message.strip() if error else "unknown error"
            # Our own errors say what went wrong in words; their class path
            # ("connectors.http.ProviderError: ") is noise. A Python error keeps its name.
            kind, sep, said = message.partition(": ")
            if sep and kind.startswith(own):
                message = said
            print(f"recon: step {event.step_key} failed: {message}", file=sys.stderr)
            failed = True
    return failed


def open_published(warehouse: WarehouseResource) -> duckdb.DuckDBPyConnection:
    path = warehouse.published_path()
    if not path.exists():
        raise ValueError(f"no warehouse at {path}: run `recon run` or `recon demo` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise ValueError(
            f"cannot open {path}: another process opened it for writing (the pipeline never "
            f"does; open it read-only, e.g. `duckdb -readonly`) ({str(exc).splitlines()[0]})"
        ) from None


def print_row_counts(warehouse: WarehouseResource) -> None:
    with open_published(warehouse) as con:
        rows = con.execute(duck.sql_text("warehouse_row_counts")).fetchall()
    print(f"\nwarehouse {warehouse.published_path()}")
    print(
        render(["provider", "entity", "rows", "quarantined"], rows, right=("rows", "quarantined"))
    )


def print_break_summary(warehouse: WarehouseResource) -> int:
    """The break summary per check and provider; returns the number of open error breaks."""
    with open_published(warehouse) as con:
        rows = con.execute(duck.sql_text("break_summary")).fetchall()
        open_errors = open_error_breaks(con)
    if not rows:
        print("\nbreaks: none, every check passed")
        return 0
    headers = ["check", "provider", "severity", "open", "pending", "resolved", "open amounts"]
    print("\nbreaks (recon breaks lists them; docs/checks.md explains each check)")
    print(render(headers, rows, right=("open", "pending", "resolved")))
    return open_errors


def write_report(warehouse: WarehouseResource, out: Path | None = None) -> Path:
    """The HTML report of the published warehouse; by default in the warehouse's reports/."""
    # The triage app's address as readers of the report reach it (a proxy's, say).
    ui_url = os.environ.get("RECON_UI_URL", "").strip() or None
    with open_published(warehouse) as con:
        return render_report(
            con, out or warehouse.reports_dir() / "recon-report.html", ui_url=ui_url
        )
