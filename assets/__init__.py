"""Dagster definitions of wallet-recon: landing, loads, staging, the reconcile step."""

import warnings

import dagster as dg

# The landing and loads use single-run backfills on purpose (one run walks a range of days);
# Dagster still labels that parameter beta and would say so once per asset on every start.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r".*`backfill_policy`")
