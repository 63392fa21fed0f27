"""Plain test clients for the JT and Whalet sandboxes over their real ASGI interface.

Like client.py they are independent of connectors/ and sign with `cryptography` directly,
so the sandbox is checked against the contract (providers.md §2-3), not against itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandbox import JtApp, WhaletApp
from sandbox.jt_endpoints import MAX_SIZE
from sandbox.model import DAY, fmt_time
from sandbox.whalet import FUND_SOURCES

BALANCE = "/open-api/jt/wallet/balance"
RECORDS = "/open-api/wallet/balance/records"


def sign(private_pem: bytes, param: str) -> str:
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(param.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


class _Asgi:
    def __init__(self, app: Any, client: tuple[str, int]) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, client=client)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://sandbox")

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


class JtClient(_Asgi):
    def __init__(
        self, app: JtApp, private_pem: bytes, client: tuple[str, int] = ("127.0.0.1", 40000)
    ) -> None:
        super().__init__(app, client)
        self.app = app
        self.private_pem = private_pem
        self.app_id = app.world.jt.app_id

    def body(self, param: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps({"timestamp": now_ms(), **param}, separators=(",", ":"))
        return {"appId": self.app_id, "param": text, "sign": sign(self.private_pem, text)}

    def call(self, path: str, **param: Any) -> dict[str, Any]:
        response = self.post(path, json=self.body(param))
        assert response.status_code == 200, response.text
        envelope: dict[str, Any] = json.loads(response.text, parse_float=Decimal)
        return envelope

    def data(self, path: str, **param: Any) -> dict[str, Any]:
        envelope = self.call(path, **param)
        assert envelope["code"] == 10000 and envelope["message"] == "Success", envelope
        data: dict[str, Any] = envelope["data"]
        return data

    def records(self, start: int, end: int, size: int = MAX_SIZE, **param: Any) -> list[Any]:
        """Every record created in [start, end), by windows of 31 days at most, newest first."""
        rows: list[Any] = []
        while start < end:
            stop = min(end, start + 31 * DAY)
            page = 1
            while True:
                window = {"startTime": fmt_time(start), "endTime": fmt_time(stop)}
                data = self.data(RECORDS, page=page, size=size, **window, **param)
                rows.extend(data["list"])
                if not data["list"] or page * size >= data["total"]:
                    break
                page += 1
            start = stop
        return rows


def pull_jt(client: JtClient) -> dict[str, Any]:
    """Everything the merchant sees at the world's clock: the balance query over all users
    (one page) and every balance record of the world."""
    world = client.app.world
    balance = client.data(BALANCE, size=MAX_SIZE)
    assert balance["total"] == len(balance["list"])
    return {
        "app_id": client.app_id,
        "balance": balance,
        "records": client.records(world.start, world.now + 1),
    }


class WhaletClient(_Asgi):
    def __init__(self, app: WhaletApp) -> None:
        super().__init__(app, ("127.0.0.1", 40001))
        self.app = app
        self.cred = app.world.whalet.credentials()
        self.token: str | None = None
        self.requests = 0

    def headers(self, token: str | None = None) -> dict[str, str]:
        self.requests += 1
        out = {
            "partnerId": self.cred["partner_id"],
            "requestNo": f"req-{self.requests}",
            "timestamp": str(now_ms()),
        }
        if token is not None:
            out["Authorization"] = f"Bearer {token}"
        return out

    def issue(self) -> dict[str, Any]:
        body = {"clientId": self.cred["client_id"], "secretKey": self.cred["secret_key"]}
        envelope: dict[str, Any] = self.post(
            "/v1/auth/token", json=body, headers=self.headers()
        ).json()
        return envelope

    def call(self, path: str, token: str | None = None, **body: Any) -> dict[str, Any]:
        response = self.post(path, json=body, headers=self.headers(token))
        assert response.status_code == 200, response.text
        envelope: dict[str, Any] = json.loads(response.text, parse_float=Decimal)
        return envelope

    def data(self, path: str, **body: Any) -> dict[str, Any]:
        """A business call with a cached token, fetching a new one once on TokenInvalid."""
        for _ in range(2):
            if self.token is None:
                self.token = self.issue()["data"]["token"]
            envelope = self.call(path, self.token, **body)
            if envelope["code"] != "TokenInvalid":
                break
            self.token = None
        assert envelope["code"] == "SUCCESS", envelope
        data: dict[str, Any] = envelope["data"]
        return data


def pull_whalet(client: WhaletClient) -> dict[str, Any]:
    """Every user's records per fund source, and the platform balance per fund source."""
    users = {
        (user, fund): client.data("/v1/wallet/queryCurrencyBalance", userId=user, fundSource=fund)[
            "records"
        ]
        for user in client.cred["user_ids"]
        for fund in FUND_SOURCES
    }
    platform = {
        fund: client.data("/v1/wallet/queryPlatformBalance", fundSource=fund)["records"]
        for fund in FUND_SOURCES
    }
    platform["all"] = client.data("/v1/wallet/queryPlatformBalance")["records"]
    return {"users": users, "platform": platform, "partner_id": client.cred["partner_id"]}
