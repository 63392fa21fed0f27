"""JT and Whalet end to end: with every JT and Whalet anomaly planted, the breaks are exactly the
manifest's, and the OPEN-API findings of the same world are what they are without them."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sandbox import JtConfig, WhaletConfig, WorldConfig, build_world
from store import duck
from store.duck import SQL_DIR
from tests.support.harness import VARCHAR_COLUMNS, completed, harness

BREAK_COLUMNS = (
    "provider, check_name, account_id, entity_type, entity_id, status, severity, "
    "transaction_id, related_transaction_id, currency, expected, actual, difference, detail, "
    "source_file"
)
SNAPSHOT_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
JT_ANOMALIES = {
    "jt_balance_composition": 2,
    "chain_gap": 2,
    "entry_arithmetic": 2,
    "wallet_balance_mismatch": 2,
    "duplicate_entry": 2,
}
OPENAPI_ANOMALIES = {"chain_gap": 1, "entry_arithmetic": 1, "wallet_balance_mismatch": 1}
WORLD = WorldConfig(
    seed=17,
    customers=2,
    days=3,
    entries_per_day=60,
    anomalies=OPENAPI_ANOMALIES,
    jt=JtConfig(users=5, records_per_day=150, anomalies=JT_ANOMALIES),
    whalet=WhaletConfig(users=2, anomalies={"money_unit_mismatch": 3}),
)


def run_world(
    cfg: WorldConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    world = build_world(cfg)
    with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
        result = h.run(cfg.start_date, cfg.start_date + timedelta(days=cfg.days - 1))
        assert completed(result)
        rows = h.query(f"select {BREAK_COLUMNS} from fct_breaks")
    names = [c.strip() for c in BREAK_COLUMNS.split(",")]
    return [dict(zip(names, r, strict=True)) for r in rows]


def identity(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["provider"], row["check_name"], str(row["account_id"]), row["entity_id"])


def test_jt_and_whalet_breaks_are_exactly_the_planted_anomalies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    manifest = world.manifest()["anomalies"]
    found = run_world(WORLD, tmp_path / "all", monkeypatch)
    by_identity = {identity(r): r for r in found}
    assert len(by_identity) == len(found), "one break per planted entity"
    planted = {identity(a): a for a in manifest}
    kinds = {(p, c) for p, c, _, _ in planted}
    assert {("jt", k) for k in JT_ANOMALIES} | {("whalet", "money_unit_mismatch")} <= kinds
    # Both forms of jt_balance_composition: a user, and a total over the users.
    assert {a["entity_type"] for a in manifest if a["check_name"] == "jt_balance_composition"} == {
        "user",
        "user_totals",
    }
    assert set(by_identity) == set(planted)
    # One chain model found the gaps of both ledgers.
    for check in ("chain_gap", "entry_arithmetic", "wallet_balance_mismatch"):
        assert {p for p, c, _, _ in by_identity if c == check} == {"openapi", "jt"}, check

    for key, truth in planted.items():
        brk = by_identity[key]
        assert brk["status"] == "open" and brk["severity"] == "error", key
        assert f"lake/provider={key[0]}/" in brk["source_file"]
        for field in ("expected", "actual", "difference"):
            want = None if truth[field] is None else Decimal(truth[field])
            assert brk[field] == want, (key, field)
        if key[1] == "duplicate_entry":
            # The later booking, naming the first.
            assert [brk["related_transaction_id"], brk["transaction_id"]] == truth[
                "transaction_ids"
            ]
        if key[1] == "chain_gap":
            assert [brk["related_transaction_id"], brk["transaction_id"]] == truth[
                "transaction_ids"
            ]
        if key[1] == "entry_arithmetic":
            assert brk["transaction_id"] == truth["entity_id"]


@pytest.mark.slow  # two full runs; make soak
def test_openapi_findings_do_not_change_when_jt_and_whalet_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = WorldConfig(**{**WORLD.__dict__, "jt": JtConfig(), "whalet": WhaletConfig()})
    with harness(build_world(alone), tmp_path / "alone", monkeypatch) as h:
        result = h.run(alone.start_date, alone.start_date + timedelta(days=alone.days - 1))
        assert completed(result)
        names = [c.strip() for c in BREAK_COLUMNS.split(",")]
        only = [
            dict(zip(names, r, strict=True))
            for r in h.query(f"select {BREAK_COLUMNS} from fct_breaks")
        ]
    together = run_world(WORLD, tmp_path / "together", monkeypatch)

    def openapi(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], tuple[Any, ...]]:
        keep = ("expected", "actual", "difference", "transaction_id")
        return {
            # The detail names when the snapshot was read, which differs between the runs.
            identity(r): (*(r[k] for k in keep), SNAPSHOT_TIME.sub("<time>", r["detail"]))
            for r in rows
            if r["provider"] == "openapi"
        }

    assert openapi(only) and openapi(only) == openapi(together)
    assert {r["provider"] for r in only} == {"openapi"}


@pytest.mark.slow  # tests/pipelines/test_redaction.py keeps every provider in the default suite
def test_no_key_token_or_secret_reaches_the_data_directory_or_logs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world(WORLD)
    with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
        result = h.run(WORLD.start_date, WORLD.start_date + timedelta(days=WORLD.days - 1))
        assert completed(result)
        events = [e.message for e in h.instance.all_logs(result.run_id)]
        strings = [
            str(v)
            for t, col in h.query(VARCHAR_COLUMNS)
            for (v,) in h.query(f'select distinct "{col}" from {t}')
        ]
        assert h.jt_private_key_pem is not None and h.whalet_app is not None
        assert h.whalet_app.tokens_issued >= 1 and h.whalet_app.tokens
        # OPEN-API keys, the Whalet secret and tokens, every line of the JT key's Base64 body.
        secrets = h.secrets()
        assert len(secrets) > len(world.credentials()) + 20
    blobs = [p.read_bytes() for p in h.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in h.data_dir.rglob("*"))
    logs = caplog.text + capsys.readouterr().out + "\n".join(events)
    assert "whalet" in logs and "jt" in logs  # the logs did cover both providers
    for secret in secrets:
        assert not any(secret.encode() in b for b in blobs), "a secret in a file"
        assert secret not in logs, "a secret in the logs"
        assert all(secret not in s for s in strings), "a secret in a table"


def test_the_chain_and_arithmetic_checks_are_one_sql_model_each_for_every_provider() -> None:
    shared = ("chain_gap", "entry_arithmetic", "wallet_balance_mismatch")
    for model in shared:
        text = duck.sql_text(model)
        assert "from fct_ledger_entries" in text, model
        assert "stg_openapi" not in text and "stg_jt" not in text, model
    ledger = duck.sql_text("fct_ledger_entries")
    assert "from stg_openapi__transactions" in ledger and "from stg_jt__balance_records" in ledger
    stems = [p.stem for p in SQL_DIR.rglob("*.sql")]
    assert all(stems.count(m) == 1 for m in shared)
    assert not [s for s in stems if ("chain" in s or "arithmetic" in s) and s not in shared]


TRANSFER_WORLD = WorldConfig(
    seed=23,
    customers=2,
    days=3,
    entries_per_day=60,
    currencies=("USD", "EUR", "THB"),
    transfers_per_day=6,
    anomalies={"transfer_unmatched": 2, "transfer_amount_mismatch": 2},
    jt=JtConfig(users=3, records_per_day=60),
)


@pytest.mark.slow  # two nights over three providers; the worked examples carry the rules
def test_transfer_breaks_are_the_planted_ones_across_two_nights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(TRANSFER_WORLD)
    planted = {identity(a): a for a in world.manifest()["anomalies"]}
    assert {c for _, c, _, _ in planted} == {"transfer_unmatched", "transfer_amount_mismatch"}
    start = TRANSFER_WORLD.start_date
    with harness(world, tmp_path, monkeypatch, all_providers=True) as h:
        # Night 1 sees two days: nothing is open that was not planted (a transfer whose JT
        # side is due after the loaded history is at most pending).
        world.set_now(world.start + 2 * 86_400 + 2 * 3600)
        assert completed(h.run(start, start + timedelta(days=1)))
        names = [c.strip() for c in BREAK_COLUMNS.split(",")]
        first = [
            dict(zip(names, r, strict=True))
            for r in h.query(f"select {BREAK_COLUMNS} from fct_breaks")
        ]
        assert {identity(r) for r in first if r["status"] == "open"} <= set(planted)
        # Night 2 sees the whole world.
        world.set_now(world.end)
        assert completed(h.run(start, start + timedelta(days=TRANSFER_WORLD.days - 1)))
        rows = h.query(f"select {BREAK_COLUMNS} from fct_breaks where status <> 'resolved'")
        sides = h.query("select is_paired, count(*) from int_transfers__paired group by all")
    found = {identity(r): r for r in (dict(zip(names, r, strict=True)) for r in rows)}
    assert set(found) == set(planted)
    for key, truth in planted.items():
        assert found[key]["status"] == "open" and found[key]["severity"] == "error"
        for field in ("expected", "actual", "difference"):
            assert found[key][field] == Decimal(truth[field]), (key, field)
    # Every clean transfer paired silently; only the planted missing arrivals did not.
    assert dict(sides) == {True: TRANSFER_WORLD.days * 6 + 2, False: 2}
