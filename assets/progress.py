"""Progress of a step: for the Dagster UI and for the terminal of `recon run`."""

import logging

import dagster as dg
from dagster import AssetExecutionContext

progress_log = logging.getLogger("recon.progress")


def report(context: AssetExecutionContext, message: str) -> None:
    """One progress line, in the run's log and on the `recon.progress` logger."""
    context.log.info(message)
    progress_log.info(message)


def skipped(context: AssetExecutionContext, what: str, setting: str) -> dg.MaterializeResult[None]:
    report(context, f"{what}: not configured ({setting} unset); skipped")
    return dg.MaterializeResult(metadata={"skipped": f"{setting} unset"})
