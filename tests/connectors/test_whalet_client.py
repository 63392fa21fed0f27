"""The Whalet client against the Whalet sandbox over loopback: the token's life, balances."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from connectors.http import HttpSettings, JsonHttpClient, ProviderError
from connectors.whalet.client import WhaletClient, WhaletCredentials
from connectors.whalet.profile import PROFILE
from connectors.whalet.rows import convert_rows, unit_mismatches
from sandbox import WorldConfig, build_world
from sandbox.serve import serving
from sandbox.whalet_app import WhaletApp

WORLD = WorldConfig(seed=5, customers=1, days=2, entries_per_day=20)
SETTINGS = HttpSettings(requests_per_second=0, max_attempts=2, backoff_base_seconds=0.01)


@dataclass
class Clock:
    """One wall clock for the client and the sandbox, moved by the test."""

    now: float = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Whalet:
    app: WhaletApp
    base_url: str
    creds: WhaletCredentials
    clock: Clock

    def client(self, **changes: str) -> WhaletClient:
        creds = WhaletCredentials(**{**self.creds.__dict__, **changes})
        http = JsonHttpClient(self.base_url, SETTINGS, PROFILE.codes)
        return WhaletClient(http, creds, clock=self.clock)


@pytest.fixture
def whalet() -> Iterator[Whalet]:
    world = build_world(WORLD)
    clock = Clock()
    app = WhaletApp(world, clock=clock)
    c = world.whalet.credentials()
    creds = WhaletCredentials(
        c["partner_id"], c["client_id"], c["secret_key"], tuple(c["user_ids"])
    )
    with serving(app) as server:
        yield Whalet(app, server.base_url, creds, clock)


def test_one_token_serves_every_call_until_shortly_before_it_expires(whalet: Whalet) -> None:
    client = whalet.client()
    user = whalet.creds.user_ids[0]
    for fund_source in PROFILE.fund_sources:
        assert client.currency_balances(user, fund_source)
    assert client.tokens_fetched == whalet.app.tokens_issued == 1
    whalet.clock.now += 7200 - 60  # inside the renewal margin of a 2-hour token
    client.platform_balances("B2C")
    assert client.tokens_fetched == whalet.app.tokens_issued == 2


def test_a_revoked_token_is_replaced_once_and_the_call_succeeds(whalet: Whalet) -> None:
    client = whalet.client()
    user = whalet.creds.user_ids[0]
    client.currency_balances(user, "B2C")
    whalet.app.revoke_tokens()
    assert client.currency_balances(user, "B2B")
    assert client.tokens_fetched == 2


def test_wrong_credentials_fail_clearly_without_the_secret(whalet: Whalet) -> None:
    wrong = "0" * 32
    with pytest.raises(ProviderError, match="WHALET_SECRET_KEY") as refused:
        whalet.client(secret_key=wrong).platform_balances("B2C")
    assert refused.value.code == "UNAUTHORIZED"
    assert wrong not in str(refused.value) and whalet.creds.secret_key not in str(refused.value)


def test_money_objects_land_exactly_with_both_of_their_numbers(whalet: Whalet) -> None:
    client = whalet.client()
    user = whalet.creds.user_ids[0]
    raw = client.currency_balances(user, "B2C")
    converted = convert_rows("balances", user, "B2C", raw, {})
    assert converted.quarantined == [] and len(converted.rows) == len(raw) > 0
    for row, sent in zip(converted.rows, raw, strict=True):
        assert isinstance(row["balance_amount"], Decimal)
        assert row["balance_amount"] == Decimal(str(sent["balance"]["amount"]))
        assert row["balance_cents"] == sent["balance"]["cent"]
        assert row["fund_source"] == "B2C" and row["user_id"] == user
    refused = convert_rows("balances", user, "B2C", [{"currency": "USD", "balance": 12.5}], {})
    assert refused.rows == [] and "balance_amount" in refused.quarantined[0]["reason"]


def test_money_objects_whose_cents_disagree_are_counted_on_the_way_in() -> None:
    sent = [
        {
            "currency": "USD",
            "balance": {"amount": Decimal("24.77"), "cent": 2477, "centFactor": 100},
        },
        {
            "currency": "EUR",
            "balance": {"amount": Decimal("24.77"), "cent": 2478, "centFactor": 100},
        },
        {
            "currency": "CNY",
            "balance": {"amount": 5, "cent": 500, "centFactor": 100},
            "pendingAmount": {"amount": Decimal("0.5"), "cent": 5, "centFactor": 100},
        },
    ]
    converted = convert_rows("balances", "W1", "B2B", sent, {})
    assert len(converted.rows) == 3  # a disagreement is kept for the check, not refused
    assert unit_mismatches(converted.rows) == 2
