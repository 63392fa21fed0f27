"""The JT wallet sandbox as an ASGI app (providers.md §2.1).

`POST {base}<path>` with body `{"appId", "param": "<JSON string>", "sign": "<base64>"}`.
Checks run in the provider's order: IP allow list (1002), appId and signature over the exact
bytes of `param` (21001), `param.timestamp` within 5 minutes of the wall clock (21009), then
the endpoint's parameters (21000). Errors carry no `data`. Success is
`{"code": 10000, "message": "Success", "data": {...}}`, money as integer minor units.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.asgi import (
    HTML_TYPE,
    AsgiApp,
    Response,
    Scope,
    client_host,
    json_response,
    server_error,
    too_many_requests,
    truncate,
)
from sandbox.config import FaultConfig
from sandbox.faults import FaultPlan
from sandbox.jt_endpoints import ROUTES, JtParamError
from sandbox.jt_sign import SignatureVerifier
from sandbox.world import World

TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000
SUCCESS = 10_000
IP_FORBIDDEN, BAD_PARAMETER, BAD_SIGNATURE, TIMESTAMP_EXPIRED = 1002, 21000, 21001, 21009


class JtApp(AsgiApp):
    """ASGI app serving a world's JT users to the merchant whose public key it holds.

    `allowed_ips` (None: any) is the merchant's IP allow list, matched against the client
    address; `clock` gives the wall time in seconds that `timestamp` must be near.
    """

    def __init__(
        self,
        world: World,
        public_key_pem: bytes,
        faults: FaultConfig | None = None,
        allowed_ips: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.base_path = ""
        self.verifier = SignatureVerifier(public_key_pem)
        self.faults = FaultPlan(faults if faults is not None else world.cfg.faults, world.cfg.seed)
        self.allowed_ips = frozenset(allowed_ips) if allowed_ips is not None else None
        self.clock = clock

    async def respond(self, scope: Scope, body: bytes) -> Response:
        method, path = scope["method"], scope["path"]
        handler = ROUTES.get(path)
        if method != "POST" or handler is None:
            return json_response(
                404, {"code": 404, "message": f"no such endpoint: {method} {path}"}
            )
        envelope = _object(body)
        param_text = envelope.get("param") if envelope is not None else None
        params = _object(param_text) if isinstance(param_text, str) else None
        page = params.get("page") if params is not None else None
        pageable = isinstance(page, int) and not isinstance(page, bool) and page >= 2
        fault, detail = self.faults.draw(pageable)
        if fault in ("rate_limited_429", "throttled_1003"):
            # JT documents no throttling code: both reach the client as HTTP 429.
            return too_many_requests(self.faults.cfg.retry_after_seconds)
        if fault == "server_error_5xx":
            return server_error(detail)
        if fault == "busy_5000":
            return 503, [HTML_TYPE], b"<html><body>Service Unavailable</body></html>"
        if fault == "slow":
            await asyncio.sleep(self.faults.cfg.slow_seconds)
        if self.allowed_ips is not None and client_host(scope) not in self.allowed_ips:
            return _error(IP_FORBIDDEN, "merchant white ip forbidden")
        if envelope is None:
            return _error(BAD_PARAMETER, "invalid parameter: body must be a JSON object")
        sign = envelope.get("sign")
        if (
            envelope.get("appId") != self.world.jt.app_id
            or not isinstance(param_text, str)
            or not isinstance(sign, str)
            or not self.verifier.verify(param_text, sign)
        ):
            return _error(BAD_SIGNATURE, "sign verify failed")
        if params is None or not self._fresh(params.get("timestamp")):
            return _error(TIMESTAMP_EXPIRED, "timestamp expired")
        try:
            data = handler(self.world.jt, self.world.now, params, fault == "page_shift")
        except JtParamError as exc:
            return _error(BAD_PARAMETER, f"invalid parameter: {exc}")
        data = self.faults.malform(fault, data, "list")
        response = json_response(200, {"code": SUCCESS, "message": "Success", "data": data})
        return truncate(response) if fault == "truncated" else response

    def _fresh(self, timestamp: Any) -> bool:
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            return False
        return abs(timestamp - self.clock() * 1000) <= TIMESTAMP_TOLERANCE_MS


def _object(text: str | bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error(code: int, message: str) -> Response:
    return json_response(200, {"code": code, "message": message})
