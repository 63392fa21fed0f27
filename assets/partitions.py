"""Time partitions shared by every windowed asset of every provider."""

from __future__ import annotations

import dagster as dg

# Partition keys are calendar days of each provider's clock: a key `2026-11-10` is the API
# window ["2026-11-10 00:00:00", "2026-11-11 00:00:00") in the provider's naive datetimes,
# whatever zone that clock runs in. `end_offset=1` admits today, for an intraday re-run.
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
