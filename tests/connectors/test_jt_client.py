"""The JT client against the JT sandbox over loopback: signatures, timestamps, whole lists."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from connectors.http import HttpSettings, JsonHttpClient, ProviderError
from connectors.jt.client import JtClient
from connectors.jt.profile import PROFILE
from connectors.jt.signing import Signer
from sandbox import JtConfig, WorldConfig, build_world
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key
from sandbox.serve import serving

WORLD = WorldConfig(seed=5, customers=1, days=2, entries_per_day=20, jt=JtConfig(users=3))
SETTINGS = HttpSettings(requests_per_second=0, max_attempts=2, backoff_base_seconds=0.01)


@dataclass
class Jt:
    base_url: str
    app_id: str
    private_pem: bytes
    public_pem: bytes

    def client(self, private_pem: bytes | None = None, **kwargs: object) -> JtClient:
        http = JsonHttpClient(self.base_url, SETTINGS, PROFILE.codes)
        signer = Signer.from_pem(private_pem or self.private_pem)
        return JtClient(http, self.app_id, signer, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def jt() -> Iterator[Jt]:
    world = build_world(WORLD)
    private_pem, public_pem = generate_merchant_key()
    with serving(JtApp(world, public_pem)) as server:
        yield Jt(server.base_url, world.jt.app_id, private_pem, public_pem)


def test_the_clients_signature_verifies_with_the_public_key(jt: Jt) -> None:
    client = jt.client()
    body = client.body({"page": 1, "size": 10})
    public = serialization.load_pem_public_key(jt.public_pem)
    assert isinstance(public, rsa.RSAPublicKey)
    # Raises InvalidSignature if the bytes signed are not exactly the bytes sent.
    public.verify(
        base64.b64decode(body["sign"]),
        body["param"].encode("utf-8"),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert json.loads(body["param"])["timestamp"] == pytest.approx(time.time() * 1000, abs=5000)
    users = client.users()
    assert len(users.rows) == 3 and users.totals["total"] == 3


def test_a_param_reserialised_after_signing_is_refused_with_21001(jt: Jt) -> None:
    client = jt.client()
    body = client.body({"page": 1, "size": 10})
    # The same parameters, the same meaning, other bytes: the signature no longer holds.
    body["param"] = json.dumps(json.loads(body["param"]), indent=1)
    with pytest.raises(ProviderError, match="signature") as refused:
        client.http.post(PROFILE.users_path, body, context=client.label)
    assert refused.value.code == 21001
    assert "JT_PRIVATE_KEY_FILE" in str(refused.value)


def test_a_key_other_than_the_registered_one_is_refused(jt: Jt) -> None:
    other, _ = generate_merchant_key()
    with pytest.raises(ProviderError, match="JT_PRIVATE_KEY_FILE") as refused:
        jt.client(private_pem=other).users()
    assert refused.value.code == 21001
    assert "PRIVATE KEY" not in str(refused.value)


def test_a_stale_timestamp_is_refused_with_21009(jt: Jt) -> None:
    six_minutes_slow = jt.client(clock=lambda: time.time() - 360)
    with pytest.raises(ProviderError, match="clock") as refused:
        six_minutes_slow.users()
    assert refused.value.code == 21009


def test_records_come_back_whole_across_pages(jt: Jt) -> None:
    client = jt.client(page_size=7)
    whole = client.records(datetime(2026, 11, 9), datetime(2026, 11, 10))
    assert whole.total == len(whole.rows) > 7
    assert len({r["balanceRefNo"] for r in whole.rows}) == whole.total
    assert all("2026-11-09" <= r["createTime"] < "2026-11-10" for r in whole.rows)
    with pytest.raises(ValueError, match="31 days"):
        client.records(datetime(2026, 10, 1), datetime(2026, 11, 10))


def test_the_private_key_file_is_never_shown_even_when_it_is_bad(tmp_path: Path, jt: Jt) -> None:
    key_file = tmp_path / "jt.pem"
    key_file.write_bytes(jt.private_pem)
    signer = Signer.from_file(key_file)
    assert "PRIVATE" not in repr(signer) and "MII" not in repr(signer)
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError) as refused:
        Signer.from_file(key_file)
    assert str(key_file) in str(refused.value) and "not a key" not in str(refused.value)
    with pytest.raises(ValueError, match="cannot read"):
        Signer.from_file(tmp_path / "missing.pem")
