"""A plain test client for the sandbox: real HTTP semantics via httpx's ASGI transport.

Deliberately independent of connectors/: the sandbox is checked against the contract,
not against the pipeline's own parsing.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx

from sandbox import SandboxApp


class SandboxClient:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox" + app.base_path
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()

    def raw(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, json=body))

    def call(self, path: str, cred: dict[str, Any], **params: Any) -> dict[str, Any]:
        """POST and return the parsed envelope; numbers parse to Decimal from the text."""
        response = self.raw(path, {**cred, **params})
        assert response.status_code == 200, response.text
        envelope: dict[str, Any] = json.loads(response.text, parse_float=Decimal, parse_int=Decimal)
        return envelope

    def data(self, path: str, cred: dict[str, Any], **params: Any) -> Any:
        envelope = self.call(path, cred, **params)
        assert envelope["code"] == 0, envelope
        return envelope["data"]

    def list_all(
        self, path: str, key: str, cred: dict[str, Any], *, page_size: int = 500, **params: Any
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.data(path, cred, page_no=page, page_size=page_size, **params)
            rows.extend(data[key])
            if not data[key] or page * page_size >= data["total"]:
                return rows
            page += 1


def pull_customer(client: SandboxClient, cred: dict[str, Any]) -> dict[str, Any]:
    """Everything one customer can see at the world's current clock."""
    wallets = client.list_all("/openApi/wallet/walletList", "wallet_list", cred)
    currencies = sorted(w["currency"] for w in wallets)
    return {
        "customer_id": cred["customer_id"],
        "wallets": wallets,
        "entries": client.list_all("/openApi/wallet/transactionList", "transaction_list", cred),
        "orders": client.list_all("/openApi/order/orderList", "order_list", cred),
        "trades": client.list_all("/openApi/card/cardTradeList", "trade_list", cred),
        "cards": client.list_all("/openApi/card/cardList", "card_list", cred),
        "rates": {
            (a, b): client.data(
                "/openApi/wallet/exchangeRate", cred, from_currency=a, to_currency=b
            )["rate"]
            for a in currencies
            for b in currencies
            if a != b
        },
    }
