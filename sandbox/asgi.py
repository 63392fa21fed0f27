"""The ASGI plumbing the sandbox apps share: lifespan, request body in, one response out.

A response is (HTTP status, headers, body bytes); each app decides it from the request scope
(method, path, headers, client address) and the whole body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sandbox.render import dumps

# As the ASGI spec types them (and httpx's ASGITransport expects).
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Response = tuple[int, Headers, bytes]

JSON_TYPE = (b"content-type", b"application/json; charset=utf-8")
HTML_TYPE = (b"content-type", b"text/html")


class AsgiApp:
    """An ASGI app answering each HTTP request with `respond(scope, body)`.

    `base_path` is the part of the base URL after the host (`/v1` for OPEN-API, empty for the
    providers whose paths carry their own version).
    """

    base_path: str = ""

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
        status, headers, payload = await self.respond(scope, body)
        headers = [*headers, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def respond(self, scope: Scope, body: bytes) -> Response:
        raise NotImplementedError


def json_response(status: int, obj: Any) -> Response:
    return status, [JSON_TYPE], dumps(obj).encode()


def header(scope: Scope, name: str) -> str | None:
    """A request header by case-insensitive name (ASGI gives names lowercased)."""
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def too_many_requests(retry_after_seconds: int) -> Response:
    status, headers, payload = json_response(429, {"code": 429, "message": "too many requests"})
    return status, [*headers, (b"retry-after", str(retry_after_seconds).encode())], payload


def server_error(detail: float) -> Response:
    """HTTP 500, 502 or 503 with an HTML body, as a proxy in front of a provider answers."""
    code = (500, 502, 503)[min(2, int(detail * 3))]
    return code, [HTML_TYPE], b"<html><body>Bad Gateway</body></html>"


def truncate(response: Response) -> Response:
    """The first half of the body: a connection cut mid-response."""
    status, _, payload = response
    return status, [(b"content-type", b"application/json")], payload[: max(1, len(payload) // 2)]
