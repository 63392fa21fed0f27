"""Recon layer: the check models over the staged ledger and `fct_breaks`, with asset checks.

One step builds every model of `sql/recon/` and folds the findings into `fct_breaks` in one
transaction (store.breaks.reconcile). Each check model carries a Dagster asset check that
fails, at the check's severity, when the check has open breaks. Breaks are data: a failed
check is a finding, visible as a failed asset check, and the run succeeds; only a pipeline
failure fails a run. The checks are not blocking, because nothing downstream should be held
back by a break: the snapshot is published and alerts go out on exactly those nights.
`recon run --fail-on-breaks` turns open error breaks into an exit code.
"""

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from assets.progress import report
from assets.resources import (
    JtResource,
    OpenApiResource,
    ReconResource,
    WarehouseResource,
    WhaletResource,
    no_provider_configured,
)
from assets.warehouse import POOL
from store import breaks, duck, publish
from store.break_workflow import apply_workflow
from store.datasets import DATASETS
from store.warehouse import LANDED_WINDOWS, ensure_raw_tables
from store.workflow_store import WorkflowStore


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _description(model: str) -> str:
    header = duck.sql_text(model).splitlines()[:2]
    return " ".join(line.lstrip("- ") for line in header)


# Tables that are no asset of their own, by the loads that write them: a history table (rows
# a later delivery replaced) by its raw table's load, the landed windows' counts by every
# window load.
_WRITERS = {ds.history_table: [ds.raw_table] for ds in DATASETS if ds.history} | {
    LANDED_WINDOWS: [ds.raw_table for ds in DATASETS if ds.windowed]
}


def upstream(model: str) -> list[str]:
    """The assets whose tables `model`'s SQL reads, found by DuckDB's parser: what the
    UI's lineage shows is what the SQL uses. The check catalogue is written by this step
    itself, and a model that reads its own table (the break history) reads its last run."""
    tables = duck.tables_read(model) - set(breaks.CATALOGUE) - {model}
    return sorted({writer for t in tables for writer in _WRITERS.get(t, [t])})


def _model_spec(model: str, group: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        model,
        group_name=group,
        deps=upstream(model),
        kinds={"duckdb", "sql"},
        description=_description(model),
    )


def _specs() -> list[dg.AssetSpec]:
    return [
        # The unified ledger is for analysts too; the rest are the checks' own models.
        *(_model_spec(m, "marts" if m.startswith("fct_") else "recon") for m in breaks.MODELS),
        _model_spec(breaks.BREAKS, "recon"),
        _model_spec(breaks.BREAK_COUNTS, "marts"),
        _model_spec(breaks.BREAK_EVENTS, "marts"),
        *(_model_spec(m, "marts") for m in breaks.MARTS),
        SNAPSHOT_SPEC,
    ]


SNAPSHOT = "warehouse_snapshot"
SNAPSHOT_SPEC = dg.AssetSpec(
    SNAPSHOT,
    group_name="publish",
    deps=[breaks.LEDGER, *breaks.HISTORY, *breaks.MARTS],
    kinds={"duckdb"},
    description=(
        "The read-only copy of the warehouse analysts open, $RECON_DATA_DIR/warehouse.duckdb, "
        "replaced atomically after each run's checks. Grain: one file, one complete run."
    ),
)


def _severity(check: breaks.Check) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if check.severity == "error" else dg.AssetCheckSeverity.WARN


CHECK_SPECS = [
    dg.AssetCheckSpec(
        "no_open_breaks",
        asset=check.name,
        blocking=False,
        description=f"{check.name} ({check.severity}): {check.rule}",
    )
    for check in breaks.CHECKS
]


def _sample(rows: list[dict[str, Any]]) -> str:
    lines = ["| break_id | entity | currency | difference | detail |", "|---|---|---|---|---|"]
    for r in rows:
        difference = "" if r["difference"] is None else str(r["difference"])
        lines.append(
            f"| {r['break_id']} | {r['entity_id']} | {r['currency'] or ''} | {difference} "
            f"| {r['detail']} |"
        )
    return "\n".join(lines)


@dg.multi_asset(specs=_specs(), check_specs=CHECK_SPECS, pool=POOL, name="reconcile")
def recon_models(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    recon: ReconResource,
    openapi: OpenApiResource,
    jt: JtResource,
    whalet: WhaletResource,
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    unconfigured = no_provider_configured([openapi, jt, whalet])
    if unconfigured:
        raise dg.Failure(unconfigured)
    # Whether the Whalet users are all the platform's is the Whalet configuration's to say.
    settings = replace(recon.settings(), whalet_users_complete=whalet.users_complete())
    run_at = _now()
    # Read before the warehouse is opened, read-only: a store that cannot be read fails the
    # step here, before anything is written (without it every explanation would lapse).
    store = WorkflowStore.reader(warehouse.workflow_url())
    try:
        actions = store.actions()
    finally:
        store.close()
    started = time.perf_counter()
    with warehouse.connect() as con:
        ensure_raw_tables(con)
        adopted = publish.adopt_published_history(con, warehouse.published_path(), breaks.HISTORY)
        if adopted:
            context.log.warning(adopted)
        counts = breaks.reconcile(con, settings, run_at, recon.full_recheck)
        worked = apply_workflow(con, actions)
        report(context, f"workflow: {len(actions)} analyst actions, {worked} breaks worked on")
        notes = breaks.cannot_tell(con, settings)
        outcomes = [
            breaks.outcome(con, check, note=notes.get(check.name)) for check in breaks.CHECKS
        ]
        undocumented = publish.describe_marts(con)
        publish.stamp(con, context.run.run_id, run_at, _now())
        checked = time.perf_counter()
        # Published in this step, while it still holds the warehouse pool: nothing can write
        # the working file between the checkpoint and the snapshot.
        published = publish.publish(
            con,
            warehouse.published_path(),
            warehouse.snapshot_slots(),
            context.run.run_id,
            full=recon.full_recheck,
        )
    done = time.perf_counter()
    if undocumented:
        context.log.warning(
            f"docs/data-dictionary.md lacks {len(undocumented)} mart columns: "
            + ", ".join(undocumented)
        )
    report(
        context,
        f"checked in {checked - started:.1f} s; published {published.path} "
        f"({published.size_bytes // 1024} KiB) in {done - checked:.1f} s, {published.how}",
    )
    for model, rows in counts.items():
        yield dg.MaterializeResult(asset_key=model, metadata={"rows": rows})
    yield dg.MaterializeResult(
        asset_key=SNAPSHOT,
        metadata={
            "path": str(published.path),
            "run_at": str(run_at),
            "size_bytes": published.size_bytes,
            "how": published.how,
            "check_seconds": round(checked - started, 2),
            "publish_seconds": round(done - checked, 2),
        },
    )
    for o in outcomes:
        note = f" ({o.note})" if o.note else ""
        explained = f", {o.explained} explained" if o.explained else ""
        report(context, f"{o.check.name}: {o.open} open{explained}, {o.pending} pending{note}")
        yield dg.AssetCheckResult(
            asset_key=o.check.name,
            check_name="no_open_breaks",
            passed=o.passed,
            severity=_severity(o.check),
            metadata={
                "open_breaks": o.open,
                "explained": o.explained,
                "pending": o.pending,
                "sample": dg.MetadataValue.md(_sample(o.sample)),
                **({"note": o.note} if o.note else {}),
            },
        )


recon_assets = [recon_models]
