"""The asset graph as a reviewed artefact: every asset key with its group, deps, partitions
and checks, and every job, schedule and sensor, sorted, as JSON.

    python -m tests.support.graph      # rewrite tests/fixtures/asset_graph.json (make graph)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent.parent / "fixtures" / "asset_graph.json"


def graph() -> dict[str, Any]:
    from pipelines.definitions import defs

    asset_graph = defs.resolve_asset_graph()
    assets: dict[str, Any] = {}
    for key in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = asset_graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(c.name for c in node.check_keys),
            "kinds": sorted(node.kinds),
        }
    jobs = {
        job.name: sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__")
    }
    schedules = {
        s.name: {"job": s.job_name, "cron": s.cron_schedule, "timezone": s.execution_timezone}
        for s in defs.get_repository_def().schedule_defs
    }
    sensors = sorted(s.name for s in defs.get_repository_def().sensor_defs)
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def text() -> str:
    return json.dumps(graph(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(text())
    sys.stdout.write(f"{SNAPSHOT}\n")
