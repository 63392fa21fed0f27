"""The OPEN-API sandbox as a plain ASGI app, served in-process (httpx.ASGITransport) or by uvicorn.

`POST {base}/openApi/<module>/<action>` with credentials in the JSON body, answered with the
provider's envelope. Wrong credentials get code 1001, bad parameters 1002 (providers.md §1.2).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.config import FaultConfig
from sandbox.endpoints import ROUTES, ListResult, ParamError, page_params
from sandbox.faults import FaultPlan
from sandbox.render import dumps
from sandbox.world import World

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SandboxApp:
    """ASGI app serving one world under `base_path` (the version segment, e.g. `/v1`)."""

    def __init__(self, world: World, faults: FaultConfig | None = None, base_path: str = "/v1"):
        self.world = world
        self.base_path = base_path.rstrip("/")
        self.faults = FaultPlan(faults if faults is not None else world.cfg.faults, world.cfg.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, headers, payload = await self.handle(scope["method"], scope["path"], body)
        headers = [*headers, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def handle(self, method: str, path: str, body: bytes) -> tuple[int, list[Any], bytes]:
        route = path[len(self.base_path) :] if path.startswith(self.base_path + "/") else None
        handler = ROUTES.get(route or "")
        if method != "POST" or handler is None:
            return _json(404, {"code": 404, "message": f"no such endpoint: {method} {path}"})
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        pageable = isinstance(params, dict) and _page_no(params) >= 2
        fault, detail = self.faults.draw(pageable)
        if fault == "rate_limited_429":
            status, headers, payload = _json(429, {"code": 429, "message": "too many requests"})
            headers.append((b"retry-after", str(self.faults.cfg.retry_after_seconds).encode()))
            return status, headers, payload
        if fault == "server_error_5xx":
            code = (500, 502, 503)[min(2, int(detail * 3))]
            return code, [(b"content-type", b"text/html")], b"<html><body>Bad Gateway</body></html>"
        if fault == "busy_5000":
            return _envelope(5000, "system busy, please retry")
        if fault == "throttled_1003":
            return _envelope(1003, "request too frequent")
        if fault == "slow":
            await asyncio.sleep(self.faults.cfg.slow_seconds)
        if not isinstance(params, dict):
            return _envelope(1002, "request body must be a JSON object")
        customer = self.world.authenticate(
            params.get("customer_id"), params.get("app_id"), params.get("key")
        )
        if customer is None:
            return _envelope(
                1001, f"invalid credentials for customer_id {params.get('customer_id')}"
            )
        try:
            result = handler(self.world, customer, params)
            if isinstance(result, ListResult):
                result = _page(result, params, shift=fault == "page_shift")
        except ParamError as exc:
            return _envelope(1002, f"invalid parameter: {exc}")
        status, headers, payload = _json(200, {"code": 0, "message": "success", "data": result})
        if fault == "truncated":
            payload = payload[: max(1, len(payload) // 2)]
            headers = [(b"content-type", b"application/json")]
        return status, headers, payload


def _page_no(params: dict[str, Any]) -> int:
    value = params.get("page_no")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _page(result: ListResult, params: dict[str, Any], shift: bool) -> dict[str, Any]:
    page_no, page_size = page_params(params)
    offset = (page_no - 1) * page_size
    total = len(result.rows)
    if shift:
        # A row inserted at the head of the window while it is being paged: everything moves
        # down one place and the count grows by one, as offset paging over live data does.
        offset -= 1
        total += 1
    rows = result.rows[offset : offset + page_size]
    return {
        "total": total,
        "page_no": page_no,
        "page_size": page_size,
        result.key: [result.render(r) for r in rows],
    }


def _json(status: int, obj: Any) -> tuple[int, list[Any], bytes]:
    payload = dumps(obj).encode()
    return status, [(b"content-type", b"application/json; charset=utf-8")], payload


def _envelope(code: int, message: str) -> tuple[int, list[Any], bytes]:
    return _json(200, {"code": code, "message": message, "data": None})


def create_app(
    world: World, faults: FaultConfig | None = None, base_path: str = "/v1"
) -> SandboxApp:
    return SandboxApp(world, faults, base_path)
