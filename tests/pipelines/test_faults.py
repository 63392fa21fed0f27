"""A night under what production does to it: every transport fault, page shifts, malformed
answers and unknown fields, served by the real sandbox over loopback to the real pipeline."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox import FAULT_KINDS, FaultConfig, JtConfig, WhaletConfig, WorldConfig, build_world
from sandbox.faults import UNKNOWN_FIELD
from tests.support.harness import Harness, completed, harness
from tests.support.served import (
    jt_landed,
    jt_truth,
    openapi_landed,
    openapi_truth,
    whalet_landed,
    whalet_truth,
)

# Small worlds with a few breaks of every provider; pages of 20 rows make each day's window
# many pages long, so page shifts hit most windows.
NIGHT = WorldConfig(
    customers=2,
    days=3,
    entries_per_day=120,
    anomalies={"chain_gap": 1, "entry_arithmetic": 1, "duplicate_entry": 1},
    jt=JtConfig(users=3, records_per_day=80, anomalies={"chain_gap": 1, "entry_arithmetic": 1}),
    whalet=WhaletConfig(users=1, anomalies={"money_unit_mismatch": 1}),
)
FAULTS = FaultConfig(
    rates={kind: 0.03 for kind in FAULT_KINDS if kind != "page_shift"} | {"page_shift": 0.1},
    retry_after_seconds=0,
    slow_seconds=0.6,
)
PAGES: dict[str, Any] = {"page_size": 20, "timeout_seconds": 0.25, "max_attempts": 10}
# One request at a time: the sandbox draws its faults in request order, so each seed's night
# stays the hard one it was chosen for (windows that must be sliced). The concurrent night
# is `test_a_faulty_night_landed_concurrently_...` below.
ONE_AT_A_TIME: dict[str, Any] = PAGES | {"max_in_flight": 1}


def breaks(h: Harness) -> set[tuple[str, str, str, str]]:
    rows = h.query("select provider, check_name, account_id, entity_id from fct_breaks")
    return {(p, c, str(a), e) for p, c, a, e in rows}


def planted(manifest: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (a["provider"], a["check_name"], str(a["account_id"]), a["entity_id"])
        for a in manifest["anomalies"]
    }


# One seed in the default suite, five with `make soak` (each is a whole faulty night).
@pytest.mark.parametrize(
    "seed", [1, *(pytest.param(s, marks=pytest.mark.slow) for s in (2, 3, 4, 5))]
)
def test_a_faulty_night_lands_every_row_once_and_finds_exactly_the_planted_breaks(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = WorldConfig(**{**NIGHT.__dict__, "seed": seed})
    world = build_world(cfg)
    first, last = cfg.start_date, cfg.start_date + timedelta(days=cfg.days - 1)
    started = time.monotonic()
    with harness(world, tmp_path, monkeypatch, all_providers=True, faults=FAULTS) as h:
        # Default window attempts (2) and smallest slice; the HTTP retry budget is raised
        # because six transient kinds at 3% hit 18% of all requests.
        result = h.run(first, last, jt=ONE_AT_A_TIME, **ONE_AT_A_TIME)
        assert completed(result), [e.message for e in result.all_events if e.is_step_failure]
        sliced = [
            m.metadata["sliced_windows"].value
            for key in ("lake_openapi__transactions", "lake_jt__balance_records")
            for m in result.asset_materializations_for_node(key)
        ]
        openapi, jt, whalet = openapi_landed(h), jt_landed(h), whalet_landed(h)
        tx_rows = h.query("select count(*) from raw_openapi__transactions")[0][0]
        found = breaks(h)
    print(f"seed {seed}: {time.monotonic() - started:.1f}s, {h.app.faults.counts}, {sliced}")
    # The night was hard: every kind of fault met, and windows that had to be sliced.
    assert set(h.app.faults.counts) == set(FAULTS.rates)
    assert any(n != 0 for n in sliced)
    expected = openapi_truth(world)
    for entity in expected:
        assert openapi[entity] == expected[entity], entity
    assert tx_rows == len(expected["tx"])  # nothing twice
    assert sorted(jt) == sorted(jt_truth(world))  # every record once
    assert sorted(whalet) == sorted(whalet_truth(world))
    assert found == planted(world.manifest())


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_a_faulty_night_landed_concurrently_lands_every_row_once_and_finds_the_breaks(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same night with windows and snapshot reads fetched 4 at a time: retries, Retry-After
    pauses and slices of one window interleave with other windows' pages, and still every
    row lands once. Which requests meet which fault now depends on timing, so this night
    need not be one with sliced windows."""
    cfg = WorldConfig(**{**NIGHT.__dict__, "seed": seed})
    world = build_world(cfg)
    first, last = cfg.start_date, cfg.start_date + timedelta(days=cfg.days - 1)
    concurrent = PAGES | {"max_in_flight": 4}
    with harness(world, tmp_path, monkeypatch, all_providers=True, faults=FAULTS) as h:
        result = h.run(first, last, jt=concurrent, **concurrent)
        assert completed(result), [e.message for e in result.all_events if e.is_step_failure]
        openapi, jt, whalet = openapi_landed(h), jt_landed(h), whalet_landed(h)
        tx_rows = h.query("select count(*) from raw_openapi__transactions")[0][0]
        found = breaks(h)
    assert set(h.app.faults.counts) == set(FAULTS.rates)
    expected = openapi_truth(world)
    for entity in expected:
        assert openapi[entity] == expected[entity], entity
    assert tx_rows == len(expected["tx"])
    assert sorted(jt) == sorted(jt_truth(world))
    assert sorted(whalet) == sorted(whalet_truth(world))
    assert found == planted(world.manifest())


SMALL = WorldConfig(
    seed=3,
    customers=1,
    days=2,
    entries_per_day=40,
    jt=JtConfig(users=2, records_per_day=30),
    whalet=WhaletConfig(users=1),
)
# The landing step each provider fails first, and what names its account in the message.
FIRST_STEPS = {
    "lake_openapi__transactions": ("OPEN-API customer", "/openApi/wallet/transactionList"),
    "lake_jt__balance_records": ("JT app", "/open-api/wallet/balance/records"),
    "lake_whalet__balances": ("Whalet partner", "/v1/wallet/queryCurrencyBalance"),
}
PYTHON = ("Error", "Traceback", "has no attribute", "object is not", "NoneType", "'total'")


def step_errors(result: Any) -> dict[str, str]:
    """Each failed step's innermost error, as `recon run` prints it."""
    errors = {}
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            errors[event.step_key] = error.message.partition(": ")[2].strip() if error else ""
    return errors


@pytest.mark.parametrize(
    ("kind", "problem", "providers"),
    [
        ("data_null", "`data` is null, expected an object", FIRST_STEPS),
        ("list_not_list", "is an object, expected a list", FIRST_STEPS),
        (
            "total_not_number",
            '`total` is a string "many", expected a whole number of rows',
            [s for s in FIRST_STEPS if "whalet" not in s],  # Whalet has no total
        ),
    ],
)
def test_a_malformed_answer_fails_its_window_with_one_line_and_lands_nothing(
    kind: str, problem: str, providers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(SMALL)
    faults = FaultConfig(rates={kind: 1.0})
    with harness(world, tmp_path, monkeypatch, all_providers=True, faults=faults) as h:
        result = h.run(SMALL.start_date, SMALL.start_date)
        errors = step_errors(result)
        landed = (
            [p for p in (h.data_dir / "lake").rglob("*.parquet")] if h.data_dir.exists() else []
        )
    assert not result.success
    for step in providers:
        account, endpoint = FIRST_STEPS[step]
        message = errors[step]
        assert "\n" not in message and not any(p in message for p in PYTHON), message
        assert message.startswith(account) and f"POST {endpoint} (" in message, message
        assert "malformed response: " in message and problem in message, message
    # Nothing of a refused answer lands: only what Whalet (no total) read whole, if anything.
    assert {p.parts[-3] for p in landed} <= {"entity=balances", "entity=platform_balances"}


def test_rows_that_are_not_objects_are_quarantined_and_windows_stay_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(SMALL)
    faults = FaultConfig(rates={"row_not_object": 1.0})
    with harness(world, tmp_path, monkeypatch, all_providers=True, faults=faults) as h:
        last = SMALL.start_date + timedelta(days=1)
        assert completed(h.run(SMALL.start_date, last, page_size=10, jt={"page_size": 10}))
        refused = h.query(
            "select provider, entity, count(*) from quarantine "
            "where reason = 'row is not an object but a string' group by all"
        )
        windows = h.query(
            "select provider, entity, sum(api_total), sum(landed_rows), sum(quarantined_rows) "
            "from landed_windows group by all"
        )
        incomplete = h.query(
            "select count(*) from fct_breaks where check_name = 'incomplete_window'"
        )
    providers = {p for p, _, n in refused if n}
    assert providers == {"openapi", "jt", "whalet"}, refused
    for provider, entity, total, rows, quarantined in windows:
        assert total == rows + quarantined, (provider, entity)
    assert any(q for *_, q in windows)  # string rows counted toward their window's total
    assert incomplete == [(0,)]


def test_unknown_fields_are_named_in_the_progress_line_and_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(SMALL)
    faults = FaultConfig(rates={"unknown_field": 1.0})
    caplog.set_level("INFO", logger="recon.progress")
    with harness(world, tmp_path, monkeypatch, all_providers=True, faults=faults) as h:
        result = h.run(SMALL.start_date, SMALL.start_date)
        assert completed(result)
    materialized = result.asset_materializations_for_node
    (tx,) = [m.metadata["rows"].value for m in materialized("lake_openapi__transactions")]
    (records,) = [m.metadata["rows"].value for m in materialized("lake_jt__balance_records")]
    metadata: dict[str, list[Any]] = {
        key: [m.metadata["unknown_fields"].value for m in materialized(key)]
        for key in (*FIRST_STEPS, "lake_openapi__wallets")
    }
    lines = caplog.text
    unknown = f"unknown fields dropped: {UNKNOWN_FIELD}"
    assert f"transactions 2026-11-09 (1/1): {tx} rows, 0 quarantined; {unknown} ({tx} " in lines
    assert f"jt balance_records 2026-11-09 (1/1): {records} rows, 0 quarantined; {unknown}" in lines
    assert metadata["lake_openapi__transactions"] == [{UNKNOWN_FIELD: tx}]
    assert metadata["lake_jt__balance_records"] == [{UNKNOWN_FIELD: records}]
    assert metadata["lake_whalet__balances"][0][UNKNOWN_FIELD] > 0
    assert metadata["lake_openapi__wallets"][0][UNKNOWN_FIELD] > 0
