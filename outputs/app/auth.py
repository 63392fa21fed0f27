"""Who may do what in the triage app, and the settings that say so.

Users and their password hashes come from a file (`RECON_UI_USERS_FILE`, one `name:hash` a
line, written by `recon ui-passwd NAME`); the hash is scrypt from the standard library, so
nothing but the file holds a password's trace. Behind a reverse proxy that signs people in,
`RECON_UI_TRUSTED_HEADER` names the header carrying the user name instead (only safe when the
app is reachable through that proxy alone). Reading is open on loopback and closed elsewhere
unless `RECON_UI_PROTECT_READS` says otherwise; writing always needs a user. Repeated failed
sign-ins for one name lock that name out for a while (`SignInLimiter`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from store.workflow import RUN_ACTOR, parse_reason_codes

# scrypt's work factors: ~50 ms and 16 MiB per check on a server of today.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCHEME = "scrypt"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=128 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def read_users(path: Path) -> dict[str, str]:
    """`name:hash` lines; blank lines and `#` comments are skipped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"RECON_UI_USERS_FILE: cannot read {path} ({exc.strerror})") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        name = name.strip()
        if not sep or not name or not stored.startswith(f"{SCHEME}$") or name == RUN_ACTOR:
            raise ValueError(
                f"{path}:{number}: expected `name:scrypt$…` (make one with `recon ui-passwd NAME`)"
            )
        users[name] = stored.strip()
    return users


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class AppSettings:
    """How one app process runs: what it opens and who may do what."""

    published: Path
    workflow_url: str
    reason_codes: tuple[str, ...]
    users: Mapping[str, str] = field(default_factory=dict)
    trusted_header: str | None = None
    protect_reads: bool = False
    # Signs the session cookie; random per process unless given (sign-ins then end on restart).
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @classmethod
    def from_env(
        cls, published: Path, workflow_url: str, host: str, env: Mapping[str, str] | None = None
    ) -> AppSettings:
        env = os.environ if env is None else env
        users_file = env.get("RECON_UI_USERS_FILE", "").strip()
        header = env.get("RECON_UI_TRUSTED_HEADER", "").strip() or None
        protect = env.get("RECON_UI_PROTECT_READS", "").strip().lower()
        if protect not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ValueError("RECON_UI_PROTECT_READS must be 1 or 0")
        key_file = env.get("RECON_UI_SECRET_KEY_FILE", "").strip()
        extra = {}
        if key_file:
            try:
                extra["secret_key"] = Path(key_file).read_text().strip()
            except OSError as exc:
                raise ValueError(
                    f"RECON_UI_SECRET_KEY_FILE: cannot read {key_file} ({exc.strerror})"
                ) from None
        return cls(
            published=published,
            workflow_url=workflow_url,
            reason_codes=parse_reason_codes(env.get("RECON_WORKFLOW_REASON_CODES")),
            users=read_users(Path(users_file)) if users_file else {},
            trusted_header=header,
            # Off loopback, reads are closed unless explicitly opened.
            protect_reads=protect in ("1", "true", "yes")
            or (protect == "" and not is_loopback(host)),
            **extra,
        )


class SignInLimiter:
    """Failed sign-ins per user name: after `attempts` failures within `window` seconds the
    name is refused until the oldest of them is `window` seconds old, whatever the password,
    so a password cannot be guessed at the speed of the network. Per name rather than per
    address, since an attacker can change address; the price is that someone guessing can
    lock a name out for `window` seconds. In memory: one app process (`recon ui`)."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(name, []) if now - t < self.window]
        if kept:
            self._failures[name] = kept
        else:
            self._failures.pop(name, None)
        return kept

    def wait_seconds(self, name: str) -> int:
        """Seconds until `name` may try again (0: it may now)."""
        with self._lock:
            now = self.clock()
            recent = self._recent(name.lower(), now)
            if len(recent) < self.attempts:
                return 0
            return max(1, int(recent[-self.attempts] + self.window - now + 0.999))

    def failed(self, name: str) -> None:
        with self._lock:
            now = self.clock()
            # Names tried once and never again would stay for ever: every failure sweeps
            # out the names whose failures are all older than the window.
            for stale in [k for k, ts in self._failures.items() if now - ts[-1] >= self.window]:
                del self._failures[stale]
            key = name.lower()
            self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)
