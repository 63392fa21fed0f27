"""A provider app seen from the server's side: what arrived when, and how much at once.

`Counting` sits in front of a sandbox app (served by uvicorn like the app itself) and keeps
each request's arrival time and the most requests it ever held at once. It can hold every
request a little (so concurrency shows), answer the first ones with 429 and `Retry-After`,
or refuse the requests a predicate picks with HTTP 400 (a window that fails).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from sandbox.asgi import AsgiApp, Receive, Scope, Send


class Counting(AsgiApp):
    def __init__(
        self,
        app: AsgiApp,
        hold_seconds: float = 0.0,
        too_many_first: int = 0,
        retry_after: int = 1,
        refuse: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.app = app
        self.base_path = app.base_path
        self.hold_seconds = hold_seconds
        self.too_many_first = too_many_first
        self.retry_after = retry_after
        self.refuse = refuse
        self.arrivals: list[float] = []
        self.answered_429: list[float] = []  # when each 429 was sent
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.arrivals.append(time.monotonic())
        number = len(self.arrivals)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = await _body(receive)
            await asyncio.sleep(self.hold_seconds)
            if number <= self.too_many_first:
                await _answer(send, 429, [(b"retry-after", str(self.retry_after).encode())])
                self.answered_429.append(time.monotonic())
                return
            if self.refuse is not None and self.refuse(_params(body)):
                await _answer(send, 400, [])
                return
            await self.app(scope, _replay(body), send)
        finally:
            self.in_flight -= 1


async def _body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def _replay(body: bytes) -> Receive:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    payload = b'{"code": %d, "message": "refused by the test"}' % status
    start_headers = [(b"content-type", b"application/json"), *headers]
    start_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": payload})
