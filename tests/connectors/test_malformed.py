"""Answers of the wrong shape, served by the sandbox's response faults over loopback: each is a
one-line provider error naming the provider, account, endpoint and what was wrong, never a
Python error; a row that is not an object is quarantined and still counts toward `total`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

from connectors.http import HttpSettings, JsonHttpClient, ProviderError
from connectors.jt.client import JtClient
from connectors.jt.profile import PROFILE as JT
from connectors.jt.rows import convert_rows as jt_rows
from connectors.jt.signing import Signer
from connectors.openapi.client import Credentials, OpenApiClient
from connectors.openapi.profile import PROFILE as OPENAPI
from connectors.openapi.rows import convert_rows as openapi_rows
from connectors.whalet.client import WhaletClient, WhaletCredentials
from connectors.whalet.profile import PROFILE as WHALET
from connectors.whalet.rows import convert_rows as whalet_rows
from sandbox import FaultConfig, JtApp, JtConfig, SandboxApp, WhaletApp, WorldConfig, build_world
from sandbox.faults import UNKNOWN_FIELD
from sandbox.jt_sign import generate_merchant_key
from sandbox.serve import serving

WORLD = WorldConfig(seed=5, customers=1, days=2, entries_per_day=60, jt=JtConfig(users=3))
SETTINGS = HttpSettings(requests_per_second=0, max_attempts=2, backoff_base_seconds=0.01)
DAY = (datetime(2026, 11, 9), datetime(2026, 11, 10))

# What each kind breaks, as the error says it; `{list}` is the provider's list key.
PROBLEMS = {
    "data_list": "`data` is a list, expected an object",
    "data_null": "`data` is null, expected an object",
    "list_missing": "`data` has no `{list}`",
    "list_not_list": "`{list}` is an object, expected a list",
    "total_missing": "`data` has no `total`",
    "total_not_number": '`total` is a string "many", expected a whole number of rows',
}
PYTHON = ("Traceback", "Error", "has no attribute", "object is not", "'list'", "NoneType")


def check(error: ProviderError, *parts: str) -> None:
    message = str(error)
    assert "\n" not in message and not any(p in message for p in PYTHON), message
    for part in parts:
        assert part in message, (part, message)


@contextmanager
def openapi(kind: str) -> Iterator[tuple[OpenApiClient, Credentials]]:
    world = build_world(WORLD)
    app = SandboxApp(world, FaultConfig(rates={kind: 1.0}))
    with serving(app) as server, JsonHttpClient(server.base_url, SETTINGS, OPENAPI.codes) as http:
        yield OpenApiClient(http, page_size=20), Credentials(**world.credentials()[0])


@contextmanager
def jt(kind: str) -> Iterator[JtClient]:
    world = build_world(WORLD)
    private_pem, public_pem = generate_merchant_key()
    app = JtApp(world, public_pem, FaultConfig(rates={kind: 1.0}))
    with serving(app) as server, JsonHttpClient(server.base_url, SETTINGS, JT.codes) as http:
        yield JtClient(http, world.jt.app_id, Signer.from_pem(private_pem), page_size=20)


@contextmanager
def whalet(kind: str) -> Iterator[WhaletClient]:
    world = build_world(WORLD)
    c = world.whalet.credentials()
    creds = WhaletCredentials(
        c["partner_id"], c["client_id"], c["secret_key"], tuple(c["user_ids"])
    )
    app = WhaletApp(world, FaultConfig(rates={kind: 1.0}))
    with serving(app) as server, JsonHttpClient(server.base_url, SETTINGS, WHALET.codes) as http:
        yield WhaletClient(http, creds)


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_openapi_window_of_the_wrong_shape_fails_naming_customer_endpoint_and_problem(
    kind: str,
) -> None:
    with openapi(kind) as (client, creds), pytest.raises(ProviderError) as failed:
        client.window(creds, "transactions", "2026-11-09 00:00:00", "2026-11-10 00:00:00")
    check(
        failed.value,
        f"OPEN-API customer {creds.customer_id}: POST /openApi/wallet/transactionList (",
        "start_time=2026-11-09 00:00:00, end_time=2026-11-10 00:00:00, page_no=1",
        f"malformed response: {PROBLEMS[kind].format(list='transaction_list')}",
    )


@pytest.mark.parametrize("kind", ["data_list", "data_null"])
def test_openapi_detail_of_the_wrong_shape_fails(kind: str) -> None:
    with openapi(kind) as (client, creds), pytest.raises(ProviderError) as failed:
        client.exchange_rate(creds, "USD", "EUR")
    check(failed.value, "/openApi/wallet/exchangeRate", PROBLEMS[kind])


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_jt_records_of_the_wrong_shape_fail_naming_app_endpoint_and_problem(kind: str) -> None:
    with jt(kind) as client, pytest.raises(ProviderError) as failed:
        client.records(*DAY)
    check(
        failed.value,
        f"JT app {client.app_id}: POST /open-api/wallet/balance/records (",
        "startTime=2026-11-09 00:00:00, endTime=2026-11-10 00:00:00, page=1",
        f"malformed response: {PROBLEMS[kind].format(list='list')}",
    )


@pytest.mark.parametrize("kind", ["data_null", "total_not_number"])
def test_jt_users_of_the_wrong_shape_fail(kind: str) -> None:
    with jt(kind) as client, pytest.raises(ProviderError) as failed:
        client.users()
    check(failed.value, "/open-api/jt/wallet/balance", PROBLEMS[kind])


@pytest.mark.parametrize("kind", ["data_list", "data_null", "list_missing", "list_not_list"])
def test_whalet_balances_of_the_wrong_shape_fail_naming_user_endpoint_and_problem(
    kind: str,
) -> None:
    with whalet(kind) as client, pytest.raises(ProviderError) as failed:
        client.currency_balances(client.creds.user_ids[0], "B2C")
    check(
        failed.value,
        f"Whalet partner {client.creds.partner_id}: POST /v1/wallet/queryCurrencyBalance (",
        f"userId={client.creds.user_ids[0]}, fundSource=B2C",
        f"malformed response: {PROBLEMS[kind].format(list='records')}",
    )


def test_whalet_has_no_total_to_break() -> None:
    with whalet("total_missing") as client:
        assert client.currency_balances(client.creds.user_ids[0], "B2C")


def test_a_row_that_is_not_an_object_is_quarantined_and_still_counted() -> None:
    with openapi("row_not_object") as (client, creds):
        fetched = client.window(creds, "transactions", "2026-11-09 00:00:00", "2026-11-10 00:00:00")
        cards = client.fetch_all(creds, "cards")
    strings = [r for r in fetched.rows if isinstance(r, str)]
    assert strings and fetched.total == len(fetched.rows)  # whole: strings count
    converted = openapi_rows("transactions", creds.customer_id, fetched.rows)
    assert len(converted.rows) + len(converted.quarantined) == fetched.total
    assert len(converted.quarantined) == len(strings)
    for q in converted.quarantined:
        assert q["reason"] == "row is not an object but a string" and q["row_key"] == ""
        assert q["raw"].startswith('"{')  # the row as served, a JSON string
    # A card row served as a string is quarantined without its card number.
    assert any(isinstance(r, str) for r in cards.rows)
    quarantined = openapi_rows("cards", creds.customer_id, cards.rows).quarantined
    pans = {k.card_no for c in build_world(WORLD).customers for k in c.cards}
    assert quarantined and "[card ****" in quarantined[0]["raw"]
    assert not [p for p in pans for q in quarantined if p in q["raw"] + q["reason"]]

    with jt("row_not_object") as jt_client:
        records = jt_client.records(*DAY)
    refused = jt_rows("balance_records", jt_client.app_id, records.rows).quarantined
    assert refused and len(refused) == sum(isinstance(r, str) for r in records.rows)
    assert records.total == len(records.rows)

    with whalet("row_not_object") as w:
        balances = w.currency_balances(w.creds.user_ids[0], "B2C")
    refused = whalet_rows("balances", w.creds.user_ids[0], "B2C", balances).quarantined
    assert len(refused) == 1 and refused[0]["reason"] == "row is not an object but a string"


def test_unknown_fields_are_counted_by_name() -> None:
    with openapi("unknown_field") as (client, creds):
        fetched = client.window(creds, "transactions", "2026-11-09 00:00:00", "2026-11-10 00:00:00")
    converted = openapi_rows("transactions", creds.customer_id, fetched.rows)
    assert dict(converted.unknown) == {UNKNOWN_FIELD: len(fetched.rows)}
    assert all(UNKNOWN_FIELD not in r for r in converted.rows)  # dropped, but counted

    with jt("unknown_field") as jt_client:
        records = jt_client.records(*DAY)
    assert dict(jt_rows("balance_records", jt_client.app_id, records.rows).unknown) == {
        UNKNOWN_FIELD: len(records.rows)
    }
    with whalet("unknown_field") as w:
        balances = w.currency_balances(w.creds.user_ids[0], "B2C")
    unknown = whalet_rows("balances", w.creds.user_ids[0], "B2C", balances).unknown
    assert dict(unknown) == {UNKNOWN_FIELD: len(balances)}
    # Without the fault, the sandbox's rows hold no field the schemas do not know.
    clean = build_world(WORLD)
    c = Credentials(**clean.credentials()[0])
    app = SandboxApp(clean, FaultConfig())
    with serving(app) as server, JsonHttpClient(server.base_url, SETTINGS, OPENAPI.codes) as http:
        rows = OpenApiClient(http).fetch_all(c, "transactions").rows
    assert openapi_rows("transactions", c.customer_id, rows).unknown == {}
