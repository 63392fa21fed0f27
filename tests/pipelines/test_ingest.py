"""OPEN-API ingestion end to end: sandbox over loopback HTTP -> Parquet -> DuckDB, via Dagster."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from pipelines.schedules import nightly_days, range_tags
from sandbox import FAULT_KINDS, FaultConfig, SandboxApp, WorldConfig, build_world
from sandbox.model import INCOME
from sandbox.world import chain_order
from store.breaks import CHECKS
from tests.support.harness import VARCHAR_COLUMNS, completed, harness
from tests.support.served import openapi_landed as warehouse
from tests.support.served import openapi_truth as truth

WORLD = WorldConfig(seed=21, customers=2, days=3, entries_per_day=80)
FIRST = WORLD.start_date
LAST = FIRST + timedelta(days=WORLD.days - 1)


def test_run_loads_exactly_what_the_sandbox_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        assert h.run(FIRST, LAST).success
        expected, got = truth(world), warehouse(h)
        for entity in expected:
            assert expected[entity] and got[entity] == expected[entity], entity
        staged = h.query("select count(*) from stg_openapi__transactions")[0][0]
        assert staged == len(expected["tx"])


RUN_LOG = ("fct_break_counts", "recon_publication")


def test_same_range_twice_leaves_every_table_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch) as h:
        assert h.run(FIRST, LAST).success
        first = h.tables()
        assert h.run(FIRST, LAST).success
        second = h.tables()
    assert first["raw_openapi__transactions"] and first["stg_openapi__orders"]
    assert set(first) == set(second)
    # The run log grows by exactly one run; which run a snapshot holds changes with it.
    runs = {name: (first.pop(name), second.pop(name)) for name in RUN_LOG}
    before, after = runs["fct_break_counts"]
    assert len(before) == len(CHECKS) and len(after) == 2 * len(CHECKS)
    assert set(before) < set(after)
    for name in first:
        assert first[name] == second[name], name


def test_every_transport_fault_loses_and_duplicates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(replace(WORLD, entries_per_day=200))
    rates = {kind: 0.03 for kind in FAULT_KINDS if kind != "page_shift"}
    faults = FaultConfig(rates=rates | {"page_shift": 0.1}, retry_after_seconds=0, slow_seconds=1.0)
    app = SandboxApp(world, faults)
    with harness(world, tmp_path, monkeypatch, app) as h:
        # Tiny pages provoke many page shifts; the re-fetch budget is raised to match.
        result = h.run(
            FIRST, LAST, page_size=20, timeout_seconds=0.3, max_attempts=10, window_attempts=5
        )
        assert result.success
        assert set(app.faults.counts) == set(rates) | {"page_shift"}, app.faults.counts
        expected, got = truth(world), warehouse(h)
        for entity in expected:
            assert got[entity] == expected[entity], entity
        legs = h.query(
            "select transaction_id, count(*) from raw_openapi__transactions "
            "where transaction_type = 3010 group by 1"
        )
        assert legs and all(n == 2 for _, n in legs)


# Slow (make soak): two nights; tests/pipelines/test_incremental.py runs nights with late
# rows in the default suite, and the worked example late_entry_resolves_its_gap the rule.
@pytest.mark.slow
def test_late_entry_arrives_with_the_next_nightly_lookback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(replace(WORLD, days=4, late_entry_rate=0.3))
    first_night = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    world.set_now("2026-11-11 02:00:00")
    gaps = "select break_id, status from fct_breaks where check_name = 'chain_gap'"
    with harness(world, tmp_path, monkeypatch) as h:
        # Rows not created yet leave gaps in the chains: open chain_gap breaks, not a failure.
        assert completed(h.run(*nightly_days(first_night, "UTC", 3)))
        before = {r[0] for r in h.query("select transaction_id from raw_openapi__transactions")}
        gaps_night1 = dict(h.query(gaps))
        world.advance(86_400)
        assert completed(h.run(*nightly_days(first_night + timedelta(days=1), "UTC", 3)))
        after = {r[0] for r in h.query("select transaction_id from raw_openapi__transactions")}
        gaps_night2 = dict(h.query(gaps))
    # The late rows close their gaps: the same break_id turns resolved, and is kept.
    assert gaps_night1 and set(gaps_night1.values()) == {"open"}
    assert set(gaps_night1) <= set(gaps_night2)
    assert any(gaps_night2[b] == "resolved" for b in gaps_night1)
    night1, night2 = world.end - 2 * 86_400 + 7200, world.end - 86_400 + 7200
    late = {
        e.transaction_id
        for c in world.customers
        for e in c.entries
        if e.transaction_time < night1 - 7200 and night1 < e.create_at <= night2
    }
    assert late, "the world should hold rows created late into a closed day"
    assert not late & before
    assert late <= after


def test_amounts_and_rates_stay_exact_decimals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    wallet = world.customers[0].wallets["USD"]
    deposits = [
        e for e in wallet.entries if e.transaction_type == 1010 and e.in_out_type == INCOME
    ][1:3]
    deposits[0].amount, deposits[1].amount = 10, 20  # 0.10 and 0.20
    chain_order(wallet)
    ids = [e.transaction_id for e in deposits]
    with harness(world, tmp_path, monkeypatch) as h:
        assert h.run(FIRST, LAST).success
        amounts = h.query(
            "select amount from raw_openapi__transactions "
            "where transaction_id in (?, ?) order by 1",
            ids,
        )
        total = h.query(
            "select sum(amount) from raw_openapi__transactions where transaction_id in (?, ?)", ids
        )
        rates = h.query("select from_currency, to_currency, rate from raw_openapi__exchange_rates")
        floats = h.query(
            "select table_name, column_name from duckdb_columns() "
            "where not internal and data_type in ('DOUBLE', 'FLOAT', 'REAL')"
        )
        types = dict(
            h.query(
                "select column_name, data_type from duckdb_columns() "
                "where table_name = 'raw_openapi__transactions'"
            )
        )
        parquet = next((h.data_dir / "lake").rglob("entity=transactions/*/data.parquet"))
    assert [a for (a,) in amounts] == [Decimal("0.10"), Decimal("0.20")]
    assert total == [(Decimal("0.30"),)] and 0.1 + 0.2 != 0.3  # what a float would have said
    assert floats == []
    assert types["amount"] == types["before_balance"] == "DECIMAL(18,2)"
    schema = pq.read_schema(parquet)
    assert str(schema.field("amount").type) == "decimal128(18, 2)"
    served = {
        (a, b): Decimal(str(world.reference_rate_e8(a, b))) / 10**8
        for a in world.cfg.currencies
        for b in world.cfg.currencies
        if a != b
    }
    assert rates and all(rate == served[(a, b)] for a, b, rate in rates)
    assert any(rate.as_tuple().exponent == -8 and rate != round(rate, 7) for _, _, rate in rates)


def test_no_card_secret_reaches_files_tables_or_logs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = build_world(WORLD)
    pans = {k.card_no for c in world.customers for k in c.cards}
    assert len(pans) > 5
    caplog.set_level(logging.DEBUG)
    with harness(world, tmp_path, monkeypatch) as h:
        result = h.run(FIRST, LAST)
        assert result.success
        texts = [str(r) for r in h.query(VARCHAR_COLUMNS)]
        columns = h.query("select column_name from duckdb_columns() where not internal")
        strings = [
            str(v)
            for t, col in h.query(VARCHAR_COLUMNS)
            for (v,) in h.query(f'select distinct "{col}" from {t}')
        ]
        events = [e.message for e in h.instance.all_logs(result.run_id)]
    assert {c for (c,) in columns}.isdisjoint({"card_no", "cvv", "pin"})
    blobs = [p.read_bytes() for p in h.data_dir.rglob("*") if p.is_file()]
    logs = caplog.text + capsys.readouterr().out + "\n".join(events) + "\n".join(texts)
    for pan in pans:
        assert not any(pan.encode() in b for b in blobs)
        assert pan not in logs and all(pan not in s for s in strings)
    last4 = {k.card_no[-4:] for c in world.customers for k in c.cards}
    assert {s for s in strings if s in last4} == last4  # the last four digits are kept


class CorruptingApp(SandboxApp):
    """The sandbox, with one ledger row's amount served as "12,30" (a malformed provider row)."""

    target: str = ""

    async def handle(self, method: str, path: str, body: bytes) -> tuple[int, list[Any], bytes]:
        status, headers, payload = await super().handle(method, path, body)
        text = payload.decode()
        pattern = rf'("transaction_id":"{self.target}".*?"amount":)([0-9.]+)'
        corrupted = re.sub(pattern, r'\1"12,30"', text, count=1)
        if corrupted != text:
            payload = corrupted.encode()
            headers = [h for h in headers if h[0] != b"content-length"]
        return status, headers, payload


def test_malformed_row_is_quarantined_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    target = next(e for e in world.customers[0].entries if e.transaction_type == 1010)
    app = CorruptingApp(world)
    app.target = target.transaction_id
    with harness(world, tmp_path, monkeypatch, app) as h:
        result = h.run(FIRST, LAST)
        assert result.success
        quarantined = h.query("select entity, row_key, reason, raw from quarantine")
        loaded = {r[0] for r in h.query("select transaction_id from raw_openapi__transactions")}
        metadata = [
            m.metadata["quarantined"].value
            for m in result.asset_materializations_for_node("lake_openapi__transactions")
        ]
    assert len(quarantined) == 1
    entity, row_key, reason, raw = quarantined[0]
    assert entity == "transactions" and row_key.startswith(target.transaction_id)
    assert "amount" in reason and "12,30" in reason
    assert json.loads(raw)["amount"] == "12,30"
    assert metadata and set(metadata) == {1}  # one run, reported on each of its partitions
    assert target.transaction_id not in loaded
    assert len(loaded) == len({t[1] for t in truth(world)["tx"]}) - 1


@pytest.mark.slow  # two runs; the store tests replace quarantine rows by window; make soak
def test_a_row_fixed_upstream_leaves_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    target = next(e for e in world.customers[0].entries if e.transaction_type == 1010)
    app = CorruptingApp(world)
    app.target = target.transaction_id
    with harness(world, tmp_path, monkeypatch, app) as h:
        assert h.run(FIRST, LAST).success
        assert len(h.query("select * from quarantine")) == 1
        app.target = "no-such-transaction"  # the provider now serves the row correctly
        assert h.run(FIRST, LAST).success
        quarantined = h.query("select * from quarantine")
        loaded = h.query(
            "select amount from raw_openapi__transactions where transaction_id = ?",
            [target.transaction_id],
        )
    assert quarantined == []
    assert loaded == [(Decimal(target.amount) / 100,)]


def test_a_window_that_keeps_shifting_fails_whole_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    app = SandboxApp(world, FaultConfig(rates={"page_shift": 1.0}))
    with harness(world, tmp_path, monkeypatch, app) as h:
        # Every page after the first shifts, and no slice may be shorter than six hours,
        # which hold more rows than a page: even the smallest slice cannot be read whole.
        result = h.run(FIRST, FIRST, page_size=5, min_slice_seconds=6 * 3600)
        assert not result.success
        failures = [e for e in result.all_events if e.is_step_failure]
        messages = {}
        for event in failures:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            messages[event.step_key] = error.message if error else ""
        lake = list((h.data_dir / "lake").rglob("entity=transactions/*/data.parquet"))
    message = messages["lake_openapi__transactions"]
    assert "transactions (start_time=2026-11-09 00:00:00, end_time=2026-11-10 00:00:00)" in message
    assert "incomplete after 2 attempts even in its smallest slice" in message
    assert "[2026-11-09 00:00:00, 2026-11-09 06:00:00) (min_slice_seconds=21600)" in message
    assert "API reported total" in message and len(message.strip().splitlines()) == 1
    assert lake == []


def test_bad_credentials_fail_fast_naming_the_customer_not_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    cred = world.credentials()[0]
    with harness(world, tmp_path, monkeypatch) as h:
        monkeypatch.setenv(
            "OPENAPI_CUSTOMERS", f"{cred['customer_id']}:{cred['app_id']}:{'f' * 32}"
        )
        result = h.run(FIRST, FIRST)
        assert not result.success
        text = "\n".join(e.message or "" for e in h.instance.all_logs(result.run_id))
        failures = [e.step_failure_data for e in result.all_events if e.is_step_failure]
        assert failures and all(f is not None and f.error is not None for f in failures)
        errors = "\n".join(f.error.to_string() for f in failures if f and f.error)
    assert f"customer {cred['customer_id']}" in errors and "bad credentials" in errors
    assert "f" * 32 not in errors + text


def test_definitions_validate_and_hold_assets_partitions_schedule() -> None:
    from pipelines.definitions import defs

    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for entity in ("transactions", "card_trades", "orders", "wallets", "cards", "exchange_rates"):
        assert {
            f"lake_openapi__{entity}",
            f"raw_openapi__{entity}",
            f"stg_openapi__{entity}",
        } <= keys
    tx = graph.get(
        next(
            k
            for k in graph.get_all_asset_keys()
            if k.to_user_string() == "raw_openapi__transactions"
        )
    )
    assert (
        tx.partitions_def is not None and tx.partitions_def.get_partition_keys()[0] == "2024-01-01"
    )
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "30 2 * * *"
    # The schedule runs the job that publishes and carries the alert hooks.
    job = defs.resolve_job_def(schedule.job_name)
    assert {"fct_breaks", "warehouse_snapshot"} <= {
        k.to_user_string() for k in job.asset_layer.selected_asset_keys
    }
    assert {h.name for h in job.hook_defs} == {"alert_on_success", "alert_on_failure"}


def test_nightly_window_is_yesterday_plus_lookback() -> None:
    now = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    assert nightly_days(now, "UTC", 3) == (date(2026, 11, 17), date(2026, 11, 20))
    # 02:30 UTC is already 10:30 on the 21st in Shanghai, and still the 20th in Los Angeles.
    assert nightly_days(now, "Asia/Shanghai", 0) == (date(2026, 11, 20), date(2026, 11, 20))
    assert nightly_days(now, "America/Los_Angeles", 0) == (date(2026, 11, 19), date(2026, 11, 19))


def test_nightly_range_ends_at_the_last_day_every_provider_has_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAPI_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("JT_TIMEZONE", "America/Los_Angeles")
    monkeypatch.setenv("RECON_LOOKBACK_DAYS", "1")
    from pipelines.definitions import defs
    from pipelines.resources import default_resources

    schedule = defs.resolve_schedule_def("nightly")
    now = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    # The zones and the lookback come from the resources the daemon gives the schedule.
    resources = default_resources()
    with dg.build_schedule_context(scheduled_execution_time=now, resources=resources) as context:
        result = schedule.evaluate_tick(context)
    (request,) = result.run_requests or []
    # Shanghai has closed the 20th, Los Angeles only the 19th: the run stops at the 19th.
    assert range_tags(date(2026, 11, 18), date(2026, 11, 19)).items() <= request.tags.items()


def test_staging_waits_for_the_tail_rows_snapshot_loads_bring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One day loaded: the card and wallet readings bring every later row as their tails,
    # into the trades, orders and transactions tables. Staged before those arrive, the
    # checks would see balances without their movements: false breaks, resolved next run.
    world = build_world(replace(WORLD, seed=23))
    with harness(world, tmp_path, monkeypatch) as h:
        assert completed(h.run(FIRST, FIRST))
        staged = {
            entity: h.query(
                f"select (select count(*) from raw_openapi__{entity}), "
                f"(select count(*) from stg_openapi__{entity})"
            )[0]
            for entity in ("transactions", "card_trades", "orders")
        }
        found = h.query("select check_name, count(*) from fct_breaks group by 1")
    assert all(raw == stg for raw, stg in staged.values()), staged
    assert staged["card_trades"][0] > 0
    assert found == []
