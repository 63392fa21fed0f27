"""The OPEN-API client against the sandbox over loopback, endpoint by endpoint (§1.3-1.6)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from connectors.http import HttpSettings, JsonHttpClient, ProviderError
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE
from sandbox import SandboxApp, WorldConfig, build_world
from sandbox.serve import serving

WORLD = WorldConfig(seed=5, customers=1, days=2, entries_per_day=60)


@pytest.fixture(scope="module")
def client_and_creds() -> Iterator[tuple[OpenApiClient, Credentials, set[str]]]:
    world = build_world(WORLD)
    cred = world.credentials()[0]
    pans = {k.card_no for c in world.customers for k in c.cards}
    with serving(SandboxApp(world)) as server:
        http = JsonHttpClient(server.base_url, HttpSettings(requests_per_second=0), PROFILE.codes)
        yield OpenApiClient(http, page_size=25), Credentials(**cred), pans
        http.close()


def test_lists_come_back_whole(
    client_and_creds: tuple[OpenApiClient, Credentials, set[str]],
) -> None:
    client, creds, _ = client_and_creds
    window = client.window(creds, "transactions", "2026-11-09 00:00:00", "2026-11-10 00:00:00")
    assert window.total == len(window.rows) > 25 and window.attempts == 1
    assert all("2026-11-09" <= r["transaction_time"] < "2026-11-10" for r in window.rows)
    for entity in ("wallets", "cards", "orders", "card_trades"):
        fetched = client.fetch_all(creds, entity)
        assert fetched.total == len(fetched.rows) > 0, entity


def test_detail_endpoints_agree_with_lists(
    client_and_creds: tuple[OpenApiClient, Credentials, set[str]],
) -> None:
    client, creds, pans = client_and_creds
    wallet = client.fetch_all(creds, "wallets").rows[0]
    assert client.wallet_detail(creds, wallet["wallet_sn"]) == wallet
    card = client.fetch_all(creds, "cards").rows[0]
    detail = client.card_detail(creds, card["card_id"])
    assert detail == card and "card_no" not in detail and "cvv" not in detail
    assert len(detail["card_last4"]) == 4 and not any(p in str(detail) for p in pans)
    order = client.fetch_all(creds, "orders").rows[0]
    assert client.order_detail(creds, order["order_id"]) == order
    fx = client.fetch_all(creds, "transactions", transaction_type=3010).rows[0]
    legs = client.transaction_bill(creds, fx["transaction_id"])
    assert sorted(leg["in_out_type"] for leg in legs) == [1, 2] and fx in legs
    rate = client.exchange_rate(creds, "USD", "HKD")
    assert isinstance(rate["rate"], Decimal) and rate["from_currency"] == "USD"
    rates = client.exchange_rates(creds, ["USD", "HKD", "EUR"])
    assert len(rates) == 6


def test_bad_parameter_fails_fast(
    client_and_creds: tuple[OpenApiClient, Credentials, set[str]],
) -> None:
    client, creds, _ = client_and_creds
    with pytest.raises(ProviderError, match="bad parameter"):
        client.order_detail(creds, "ord_missing")
