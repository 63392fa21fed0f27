"""Real alert receivers on loopback: an HTTP server that keeps what is POSTed to it, and an
SMTP server (aiosmtpd) that keeps the mail it is sent."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from sandbox.serve import free_port


class _Server(ThreadingHTTPServer):
    # Started on a port chosen earlier (the receiver was "down" until now).
    allow_reuse_address = True


@dataclass
class HttpReceiver:
    """Keeps every POST (path, JSON body). Not listening until `start()`: until then its
    URL refuses connections, as a receiver that is down does."""

    port: int = field(default_factory=free_port)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.posts if p == path]

    def start(self) -> None:
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _accept_any_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    return AuthResult(success=True)


class SmtpReceiver:
    """With `login`, the server offers AUTH (without TLS, on loopback) and takes any login."""

    def __init__(self, login: bool = False) -> None:
        self.mailbox = _Mailbox()
        self.port = free_port()
        auth: dict[str, Any] = (
            {"authenticator": _accept_any_login, "auth_require_tls": False} if login else {}
        )
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **auth)

    @property
    def messages(self) -> list[Message]:
        return self.mailbox.messages

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
