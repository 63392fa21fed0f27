"""The OPEN-API sandbox as a plain ASGI app, served in-process (httpx.ASGITransport) or by uvicorn.

`POST {base}/openApi/<module>/<action>` with credentials in the JSON body, answered with the
provider's envelope. Wrong credentials get code 1001, bad parameters 1002 (providers.md §1.2).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sandbox.asgi import (
    AsgiApp,
    Response,
    Scope,
    json_response,
    server_error,
    too_many_requests,
    truncate,
)
from sandbox.config import FaultConfig
from sandbox.endpoints import ROUTES, ListResult, ParamError, page_params
from sandbox.faults import FaultPlan
from sandbox.world import World


class SandboxApp(AsgiApp):
    """ASGI app serving one world under `base_path` (the version segment, e.g. `/v1`)."""

    def __init__(self, world: World, faults: FaultConfig | None = None, base_path: str = "/v1"):
        self.world = world
        self.base_path = base_path.rstrip("/")
        self.faults = FaultPlan(faults if faults is not None else world.cfg.faults, world.cfg.seed)

    async def respond(self, scope: Scope, body: bytes) -> Response:
        return await self.handle(scope["method"], scope["path"], body)

    async def handle(self, method: str, path: str, body: bytes) -> Response:
        route = path[len(self.base_path) :] if path.startswith(self.base_path + "/") else None
        handler = ROUTES.get(route or "")
        if method != "POST" or handler is None:
            return json_response(
                404, {"code": 404, "message": f"no such endpoint: {method} {path}"}
            )
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        pageable = isinstance(params, dict) and _page_no(params) >= 2
        fault, detail = self.faults.draw(pageable)
        if fault == "rate_limited_429":
            return too_many_requests(self.faults.cfg.retry_after_seconds)
        if fault == "server_error_5xx":
            return server_error(detail)
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
            list_key = result.key if isinstance(result, ListResult) else None
            if isinstance(result, ListResult):
                result = _page(result, params, shift=fault == "page_shift")
        except ParamError as exc:
            return _envelope(1002, f"invalid parameter: {exc}")
        data = self.faults.malform(fault, result, list_key)
        response = json_response(200, {"code": 0, "message": "success", "data": data})
        return truncate(response) if fault == "truncated" else response


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


def _envelope(code: int, message: str) -> Response:
    return json_response(200, {"code": code, "message": message, "data": None})


def create_app(
    world: World, faults: FaultConfig | None = None, base_path: str = "/v1"
) -> SandboxApp:
    return SandboxApp(world, faults, base_path)
