"""Ledger reconciliation end to end: the sandbox's planted anomalies are exactly the breaks."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from assets.resources import WarehouseResource
from pipelines.definitions import defs
from sandbox import WhaletConfig, World, WorldConfig, build_world
from store import breaks
from store.duck import SQL_DIR
from store.workflow import EXPLAINED, Action
from store.workflow_store import WorkflowStore
from tests.support.harness import completed, harness

LEDGER_KINDS = (
    "entry_arithmetic",
    "chain_gap",
    "duplicate_entry",
    "wallet_balance_mismatch",
    "fx_missing_leg",
    "fx_amount_mismatch",
    "fx_rate_deviation",
)
WORLD = WorldConfig(
    seed=11,
    customers=3,
    days=4,
    entries_per_day=120,
    anomalies={
        "entry_arithmetic": 2,
        "chain_gap": 2,
        "duplicate_entry": 2,
        "wallet_balance_mismatch": 2,
        "fx_missing_leg": 2,
        "fx_amount_mismatch": 2,
        "fx_rate_deviation": 2,
    },
)
CARD_KINDS = ("order_debit_missing", "order_debit_mismatch", "card_balance_mismatch")
CARD_WORLD = WorldConfig(
    seed=13,
    customers=3,
    days=4,
    entries_per_day=120,
    anomalies={"order_debit_missing": 2, "order_debit_mismatch": 2, "card_balance_mismatch": 4},
)
MONEY_KINDS = (
    "refund_exceeds_origin",
    "refund_without_origin",
    "payment_fee_mismatch",
    "payment_return_missing",
)
MONEY_WORLD = WorldConfig(
    seed=19,
    customers=3,
    days=4,
    entries_per_day=120,
    anomalies={
        "refund_exceeds_origin": 2,
        "refund_without_origin": 3,
        "payment_fee_mismatch": 2,
        "payment_return_missing": 2,
    },
)
STATE_WORLD = WorldConfig(
    seed=23,
    customers=3,
    days=4,
    entries_per_day=120,
    anomalies={"closed_card_balance": 2, "wallet_freeze_mismatch": 2},
    whalet=WhaletConfig(anomalies={"whalet_platform_mismatch": 2}),
)
BREAK_COLUMNS = (
    "check_name, account_id, entity_id, status, severity, transaction_id, "
    "related_transaction_id, currency, expected, actual, difference, source_file"
)


def awkward_cases(world: World) -> tuple[int, int]:
    """Same-second bursts (3+ rows of one wallet in one second) and midnight-straddling
    exchanges in the world, so the test is known to cover them."""
    bursts = straddles = 0
    for c in world.customers:
        for w in c.wallets.values():
            per_second = Counter(e.transaction_time for e in w.entries)
            bursts += sum(1 for n in per_second.values() if n >= 3)
        for legs in c.exchanges.values():
            days = {e.transaction_time // 86_400 for e in legs}
            straddles += len(days) > 1
    return bursts, straddles


def by_identity(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["check_name"], str(r["account_id"]), r["entity_id"]): r for r in rows}


def reconcile_world(
    cfg: WorldConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[World, dict[tuple[str, str, str], dict[str, Any]], list[tuple[Any, ...]]]:
    """Run the pipeline over the whole world; its breaks by identity, and the card activity."""
    world = build_world(cfg)
    with harness(world, tmp_path, monkeypatch) as h:
        result = h.run(cfg.start_date, cfg.start_date + timedelta(days=cfg.days - 1))
        assert completed(result)
        rows = h.query(f"select {BREAK_COLUMNS} from fct_breaks")
        activity = h.query(
            "select account_id, card_id, closing_balance from fct_card_activity "
            "qualify activity_date = max(activity_date) over (partition by account_id, card_id)"
        )
    names = [c.strip() for c in BREAK_COLUMNS.split(",")]
    found = [dict(zip(names, r, strict=True)) for r in rows]
    identities = by_identity(found)
    assert len(identities) == len(found), "one break per planted entity"
    return world, identities, activity


def test_breaks_are_exactly_the_planted_ledger_and_fx_anomalies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, found, _ = reconcile_world(WORLD, tmp_path, monkeypatch)
    bursts, straddles = awkward_cases(world)
    assert bursts > 0 and straddles > 0
    manifest = world.manifest()["anomalies"]
    planted = {(a["check_name"], str(a["customer_id"]), a["entity_id"]): a for a in manifest}
    assert {k[0] for k in planted} == set(LEDGER_KINDS)
    assert set(found) == set(planted)

    for key, truth in planted.items():
        brk = found[key]
        assert brk["status"] == "open"
        expected_severity = "warn" if key[0] == "fx_rate_deviation" else "error"
        assert brk["severity"] == expected_severity
        assert "lake/provider=openapi/" in brk["source_file"]
        if key[0] in ("chain_gap", "entry_arithmetic", "wallet_balance_mismatch"):
            for field in ("expected", "actual", "difference"):
                assert brk[field] == Decimal(truth[field]), (key, field)
        if key[0] == "fx_amount_mismatch":
            assert brk["actual"] == Decimal(truth["actual"])
        if key[0] == "chain_gap":
            assert [brk["related_transaction_id"], brk["transaction_id"]] == truth[
                "transaction_ids"
            ]
        if key[0] in ("fx_rate_deviation", "fx_missing_leg"):
            assert brk["currency"] == truth["currency"]


def test_breaks_are_exactly_the_planted_card_and_order_anomalies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, found, _ = reconcile_world(CARD_WORLD, tmp_path, monkeypatch)
    manifest = world.manifest()["anomalies"]
    planted = {(a["check_name"], str(a["customer_id"]), a["entity_id"]): a for a in manifest}
    assert {k[0] for k in planted} == set(CARD_KINDS)
    assert set(found) == set(planted)
    for key, truth in planted.items():
        brk = found[key]
        assert brk["status"] == "open" and brk["severity"] == "error"
        for field in ("expected", "actual", "difference"):
            want = truth[field]
            assert brk[field] == (None if want is None else Decimal(want)), (key, field)


def test_breaks_are_exactly_the_planted_trade_and_payment_anomalies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, found, _ = reconcile_world(MONEY_WORLD, tmp_path, monkeypatch)
    manifest = world.manifest()["anomalies"]
    planted = {(a["check_name"], str(a["customer_id"]), a["entity_id"]): a for a in manifest}
    assert {k[0] for k in planted} == set(MONEY_KINDS)
    assert {a.get("reason") for a in manifest} >= {"empty", "unknown", "failed"}
    assert set(found) == set(planted)
    for key, truth in planted.items():
        brk = found[key]
        severity = "warn" if key[0] == "refund_without_origin" else "error"
        assert brk["status"] == "open" and brk["severity"] == severity, key
        for field in ("expected", "actual", "difference"):
            want = truth[field]
            assert brk[field] == (None if want is None else Decimal(want)), (key, field)
        if key[0] == "payment_return_missing" and len(truth["transaction_ids"]) == 2:
            assert brk["related_transaction_id"] == truth["transaction_ids"][1]


@pytest.mark.slow  # a whole world's run; tests/fixtures/recon holds each rule's worked example
def test_breaks_are_exactly_the_planted_card_wallet_and_platform_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(STATE_WORLD)
    with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
        first = STATE_WORLD.start_date
        assert completed(h.run(first, first + timedelta(days=STATE_WORLD.days - 1)))
        rows = h.query(f"select {BREAK_COLUMNS} from fct_breaks")
    names = [c.strip() for c in BREAK_COLUMNS.split(",")]
    found = by_identity([dict(zip(names, r, strict=True)) for r in rows])
    assert len(found) == len(rows), "one break per planted entity"
    manifest = world.manifest()["anomalies"]
    planted = {(a["check_name"], a["account_id"], a["entity_id"]): a for a in manifest}
    assert {k[0] for k in planted} == {
        "closed_card_balance",
        "wallet_freeze_mismatch",
        "whalet_platform_mismatch",
    }
    assert {a.get("fault") for a in manifest} >= {"refund_short", "no_refund"}
    assert set(found) == set(planted)
    for key, truth in planted.items():
        brk = found[key]
        severity = "warn" if key[0] == "wallet_freeze_mismatch" else "error"
        assert brk["status"] == "open" and brk["severity"] == severity, key
        for field in ("expected", "actual", "difference"):
            assert brk[field] == Decimal(truth[field]), (key, field)


def test_card_activity_closes_at_the_reported_card_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = WorldConfig(seed=17, customers=2, days=3, entries_per_day=100)
    world, found, activity = reconcile_world(cfg, tmp_path, monkeypatch)
    assert not found
    reported = {
        (str(c.customer_id), k.card_id): Decimal(world.card_state(k)[0]) / 100
        for c in world.customers
        for k in world.cards(c)
    }
    closing = {(a, k): b for a, k, b in activity}
    moved = {key for key in reported if key in closing}
    assert len(moved) > 10
    # Every card with a movement has a last day, and it closes at the provider's balance.
    assert {k: closing[k] for k in moved} == {k: reported[k] for k in moved}
    assert set(closing) == moved


def test_checks_fail_with_open_breaks_and_pass_without_while_the_run_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = WorldConfig(seed=5, customers=1, days=2, anomalies={"chain_gap": 1})
    world = build_world(cfg)
    days = (cfg.start_date, cfg.start_date + timedelta(days=1))
    with harness(world, tmp_path, monkeypatch) as h:
        result = h.run(*days)
        evaluations = {
            e.asset_check_key.asset_key.to_user_string(): e
            for e in result.get_asset_check_evaluations()
        }
        assert set(evaluations) == set(breaks.CHECK_NAMES)
        assert not evaluations["chain_gap"].passed
        assert evaluations["chain_gap"].metadata["open_breaks"].value == 1
        assert evaluations["chain_gap"].severity == dg.AssetCheckSeverity.ERROR
        assert all(e.passed for k, e in evaluations.items() if k != "chain_gap")
        # Breaks are findings: the run itself succeeded, and no step failed.
        assert completed(result) and result.success

        # An analyst explains the gap for the numbers it has: as for alerts and
        # --fail-on-breaks, it no longer fails the asset check, which still counts it.
        ((break_id, status, expected, actual, difference),) = h.query(
            "select break_id, status, expected, actual, difference from fct_breaks"
        )
        store = WorkflowStore(WarehouseResource(data_dir=str(h.data_dir)).workflow_url())
        at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        store.record(
            Action(
                break_id, EXPLAINED, "alice", at, reason_code="provider_error_reported",
                status=status, expected=expected, actual=actual, difference=difference,
            )
        )  # fmt: skip
        store.close()
        again = h.run(*days)
    explained = {
        e.asset_check_key.asset_key.to_user_string(): e for e in again.get_asset_check_evaluations()
    }["chain_gap"]
    assert explained.passed
    assert explained.metadata["open_breaks"].value == 0
    assert explained.metadata["explained"].value == 1


MONEY_TYPES = re.compile(r"\b(double|float[48]?|real)\b|::\s*(double|float|real)", re.IGNORECASE)


def test_no_model_goes_through_floating_point(tmp_path: Path) -> None:
    for path in SQL_DIR.rglob("*.sql"):
        code = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        assert not MONEY_TYPES.search(code), f"{path} mentions a floating-point type"
    from tests.support.ledger import Ledger, load_fixture

    ledger = Ledger(tmp_path)
    for run in load_fixture("rate_80_bps_off_reference")["runs"]:
        ledger.deliver(run)
    tables = [*breaks.MODELS, breaks.BREAKS, *breaks.MARTS]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where list_contains(?, table_name)",
            [tables],
        ).fetchall()
    assert {t for t, _, _ in columns} == set(tables)
    floating = [(t, c, d) for t, c, d in columns if d in ("DOUBLE", "FLOAT", "REAL")]
    assert not floating
    money = {(t, c): d for t, c, d in columns if c in ("expected", "actual", "difference")}
    assert money and all(d.startswith("DECIMAL") for d in money.values())


def test_every_check_is_an_asset_check_on_its_recon_asset_that_holds_nothing_back() -> None:
    specs = {
        (spec.asset_key.to_user_string(), spec.name): spec
        for assets_def in defs.assets or []
        if isinstance(assets_def, dg.AssetsDefinition)
        for spec in assets_def.check_specs
    }
    for check in breaks.CHECKS:
        spec = specs[(check.name, "no_open_breaks")]
        # Not blocking: a break must never keep the snapshot or the alerts from going out.
        assert not spec.blocking, check.name
    job = defs.resolve_job_def("recon")
    assert {dg.AssetKey(c.name) for c in breaks.CHECKS} <= set(
        job.asset_layer.asset_graph.get_all_asset_keys()
    )
