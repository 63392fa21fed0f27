"""Analysts' explanations across runs (issue 16, acceptance 2), through the real `recon` job
with its alert hooks and `--fail-on-breaks`, against the sandbox over loopback."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assets.resources import WarehouseResource
from pipelines import exit_codes
from pipelines.runs import run_days
from sandbox import WorldConfig, build_world
from store.workflow import EXPLAINED, Action
from store.workflow_store import WorkflowStore
from tests.support.harness import Harness, harness
from tests.support.receivers import HttpReceiver

WORLD = WorldConfig(
    seed=21,
    customers=1,
    days=2,
    entries_per_day=30,
    late_entry_rate=0.0,
    anomalies={"wallet_balance_mismatch": 1, "chain_gap": 1},
)
WEBHOOK = "/hook"


def breaks(h: Harness) -> dict[str, dict[str, Any]]:
    cursor = (
        "select break_id, check_name, status, expected, actual, difference, workflow_status, "
        "reason_code, owner, note from fct_breaks"
    )
    names = cursor.split("select ")[1].split(" from")[0].split(", ")
    return {r[0]: dict(zip(names, r, strict=True)) for r in h.query(cursor)}


def told(hook: HttpReceiver) -> list[set[str]]:
    """The open breaks of each webhook post, in order."""
    return [
        {b["break_id"] for b in post["breaks"] if b["status"] == "open"}
        for post in hook.bodies(WEBHOOK)
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_explained_break_stays_explained_until_its_numbers_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    first, last = WORLD.start_date, WORLD.start_date + timedelta(days=WORLD.days - 1)
    hook = HttpReceiver()
    hook.start()
    try:
        # The inner patch is undone before the harness ends, so DAGSTER_HOME goes back to
        # what it was before the harness, never to the harness's deleted instance folder
        # (which later tests in this worker would inherit).
        with harness(world, tmp_path, monkeypatch) as h, pytest.MonkeyPatch.context() as env:
            env.setenv("RECON_ALERT_WEBHOOK_URL", hook.url(WEBHOOK))
            env.delenv("DAGSTER_HOME", raising=False)
            config: dict[str, dict[str, Any]] = {
                "openapi": {"page_size": 100, "backoff_base_seconds": 0.01},
                "warehouse": {"data_dir": str(h.data_dir)},
            }

            def run() -> int:
                return run_days(first, last, config, fail_on_breaks=True)

            # Night 1: two open error breaks, told, counted by --fail-on-breaks.
            assert run() == exit_codes.OPEN_BREAKS
            night1 = breaks(h)
            assert {b["check_name"] for b in night1.values()} == {
                "wallet_balance_mismatch",
                "chain_gap",
            }
            assert {b["workflow_status"] for b in night1.values()} == {"new"}
            assert told(hook) == [set(night1)]

            # An analyst explains both, with the numbers she sees in the snapshot.
            url = WarehouseResource(data_dir=str(h.data_dir)).workflow_url()
            store = WorkflowStore(url)
            at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            for b in night1.values():
                store.record(
                    Action(
                        b["break_id"], EXPLAINED, "alice", at, note="<b>provider knows</b>",
                        reason_code="provider_error_reported", status=b["status"],
                        expected=b["expected"], actual=b["actual"], difference=b["difference"],
                    )
                )  # fmt: skip
            store.close()
            workflow_file = h.data_dir / "workflow" / "workflow.sqlite"
            before = digest(workflow_file)

            # Night 1 again, the same data: still explained, nobody told, exit 0.
            assert run() == exit_codes.OK
            night1b = breaks(h)
            assert {b["workflow_status"] for b in night1b.values()} == {EXPLAINED}
            assert {b["reason_code"] for b in night1b.values()} == {"provider_error_reported"}
            assert len(told(hook)) == 1
            events = h.query(
                "select break_id, event, actor, detail from fct_break_events "
                "where actor <> 'run' order by break_id"
            )
            assert [(e[0], e[1], e[2]) for e in events] == [
                (b, EXPLAINED, "alice") for b in sorted(night1)
            ]
            assert "provider_error_reported" in events[0][3]

            # The provider now reports another balance: the wallet break's numbers change.
            (mismatch,) = [
                b for b in night1.values() if b["check_name"] == "wallet_balance_mismatch"
            ]
            (wallet,) = [w for c in world.customers for w in c.wallets.values() if w.balance_delta]
            wallet.balance_delta += 250
            assert run() == exit_codes.OPEN_BREAKS
            night2 = breaks(h)
            changed = night2[mismatch["break_id"]]
            # 250 cents more reported: the difference (actual - expected) moves by 2.50.
            assert changed["difference"] == mismatch["difference"] + Decimal("2.50")
            assert (changed["workflow_status"], changed["reason_code"]) == ("new", None)
            others = [b for i, b in night2.items() if i != mismatch["break_id"]]
            assert {b["workflow_status"] for b in others} == {EXPLAINED}
            # Told once more, that break alone; a further run tells nothing.
            assert told(hook)[1:] == [{mismatch["break_id"]}]
            assert run() == exit_codes.OPEN_BREAKS
            assert len(told(hook)) == 2
            # No run ever wrote the workflow store.
            assert digest(workflow_file) == before
            assert not (h.data_dir / "workflow" / "workflow.sqlite-journal").exists()
    finally:
        hook.stop()
