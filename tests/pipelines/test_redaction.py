"""A provider that echoes credentials and card numbers in its error messages: `recon run` fails
the step, and what it prints, logs, stores and alerts carries neither, for every provider."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sandbox import JtConfig, WhaletConfig, WorldConfig, build_world
from sandbox.asgi import AsgiApp, Response, Scope, header, json_response
from tests.support.harness import harness
from tests.support.receivers import HttpReceiver

WORLD = WorldConfig(
    seed=9,
    customers=1,
    days=2,
    entries_per_day=20,
    jt=JtConfig(users=2, records_per_day=20),
    whalet=WhaletConfig(users=1),
)
# A card number: 13 to 19 digits standing alone, as connectors.redact defines it (not the
# fraction of a number, such as a duration in the event log, nor part of an id touching a
# letter or an underscore). Anything like it that passes Luhn is a leak.
PAN_LIKE = re.compile(r"(?<![\w.])\d{13,19}(?![\w])")


def card_like(text: str) -> list[str]:
    """Each Luhn-valid card-shaped number in `text`, with what surrounds it."""
    return [
        text[max(0, m.start() - 60) : m.end() + 30]
        for m in PAN_LIKE.finditer(text)
        if luhn(m.group())
    ]


HOOK = "/hook"


def luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return (sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])) % 10 == 0


Answer = Callable[[Scope, bytes], dict[str, Any]]


class Echoing(AsgiApp):
    """A provider app that answers one endpoint with an error quoting what it should not."""

    def __init__(self, app: AsgiApp, path: str, answer: Answer) -> None:
        self.app, self.path, self.answer = app, path, answer
        self.base_path = app.base_path
        self.echoed: list[str] = []

    async def respond(self, scope: Scope, body: bytes) -> Response:
        if scope["path"].endswith(self.path):
            envelope = self.answer(scope, body)
            self.echoed.append(envelope["message"])
            return json_response(200, envelope)
        return await self.app.respond(scope, body)


# provider -> (endpoint echoing, step that fails, what names the account in the message)
CASES = {
    "openapi": ("/openApi/wallet/transactionList", "lake_openapi__transactions", "customer"),
    "jt": ("/open-api/wallet/balance/records", "lake_jt__balance_records", "JT app"),
    "whalet": ("/v1/wallet/queryCurrencyBalance", "lake_whalet__balances", "Whalet partner"),
}


@pytest.mark.parametrize("provider", sorted(CASES))
def test_echoed_keys_tokens_and_card_numbers_are_redacted_everywhere(
    provider: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(WORLD)
    pan = world.customers[0].cards[0].card_no
    path, step, account = CASES[provider]
    echoing: list[Echoing] = []
    pem_lines: list[str] = []

    def answer(scope: Scope, body: bytes) -> dict[str, Any]:
        """The provider's error, quoting the credential the request carried (or, for JT,
        whose requests carry none, the merchant key) and a card number."""
        if provider == "openapi":
            key = json.loads(body)["key"]
            return {"code": 1001, "message": f"invalid key {key} for card {pan}", "data": None}
        if provider == "jt":
            quoted = " ".join(pem_lines[:2])
            return {"code": 21000, "message": f"invalid parameter: key {quoted}; card {pan}"}
        token = (header(scope, "Authorization") or "").split(" ")[-1]
        secret = world.whalet.credentials()["secret_key"]
        return {
            "code": "PARAMETER_ERROR",
            "message": f"token {token} (secret {secret}) may not see card\n{pan}",
        }

    def wrap(name: str, app: AsgiApp) -> AsgiApp:
        if name != provider:
            return app
        echoing.append(Echoing(app, path, answer))
        return echoing[0]

    receiver = HttpReceiver()
    receiver.start()
    try:
        with harness(world, tmp_path, monkeypatch, all_providers=True, wrap=wrap) as h:
            assert h.jt_private_key_pem is not None
            pem_lines += h.jt_private_key_pem.decode().splitlines()[1:-1]
            env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
            env |= {
                "RECON_DATA_DIR": str(h.data_dir),
                "RECON_ALERT_WEBHOOK_URL": receiver.url(HOOK),
            }
            last = WORLD.start_date + timedelta(days=WORLD.days - 1)
            recon = Path(sys.executable).with_name("recon")
            done = subprocess.run(
                [str(recon), "run", "--start", str(WORLD.start_date), "--end", str(last)],
                capture_output=True,
                text=True,
                timeout=300,
                env=env,
                cwd=tmp_path,  # no ./.env of the repository
            )
            secrets = h.secrets()
    finally:
        receiver.stop()
    (echo,) = echoing
    assert echo.echoed  # the provider did say it
    assert any(s in m for m in echo.echoed for s in secrets) and any(pan in m for m in echo.echoed)
    assert done.returncode == 1, done.stdout + done.stderr
    printed = done.stdout + done.stderr
    (failed,) = [
        line for line in done.stderr.splitlines() if line.startswith(f"recon: step {step}")
    ]
    # The message got through, redacted, on one line: no Python exception text.
    assert account in failed and "[redacted]" in failed and f"[card ****{pan[-4:]}]" in failed
    assert "Error" not in failed and "Traceback" not in printed

    with dg.DagsterInstance.from_config(str(h.data_dir / "dagster")) as instance:
        (run,) = instance.get_runs()
        # Every event's message and data (a step failure's error with its causes).
        logged = "\n".join(
            f"{e.message}\n{e.dagster_event.event_specific_data if e.dagster_event else ''}"
            for e in instance.all_logs(run.run_id)
        )
    alerts = [body for p, body in receiver.posts if p == HOOK]
    (alert,) = [a for a in alerts if a.get("event") == "run_failed"]
    assert alert["step"] == step and "[redacted]" in alert["error"]
    assert f"[card ****{pan[-4:]}]" in alert["error"]
    stored = [p.read_bytes().decode("latin-1") for p in h.data_dir.rglob("*") if p.is_file()]
    pans = {k.card_no for c in world.customers for k in c.cards}
    for text in [printed, logged, json.dumps(alerts)]:
        assert not [s for s in secrets if s in text]
        assert not card_like(text)
    for text in stored:  # Parquet, DuckDB and the instance's SQLite: binary, so exact values
        assert not [s for s in [*secrets, *pans] if s in text]
