"""`recon sandbox serve` and `serving_all` answer for every provider over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox import World
from sandbox.serve import serving_all
from tests.support.provider_clients import BALANCE, now_ms, sign


def wait_for(url: str, **kwargs: Any) -> httpx.Response:
    for _ in range(100):  # uvicorn binds just after the banner is printed
        try:
            return httpx.post(url, **kwargs)
        except httpx.ConnectError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def jt_body(app_id: str, private_pem: bytes, **param: Any) -> dict[str, Any]:
    text = json.dumps({"timestamp": now_ms(), **param})
    return {"appId": app_id, "param": text, "sign": sign(private_pem, text)}


def whalet_token(base: str, partner: str, client: str, secret: str) -> str:
    headers = {"partnerId": partner, "requestNo": "r1", "timestamp": str(now_ms())}
    body = {"clientId": client, "secretKey": secret}
    envelope = wait_for(f"{base}/v1/auth/token", json=body, headers=headers).json()
    assert envelope["code"] == "SUCCESS", envelope
    token: str = envelope["data"]["token"]
    return token


def three_free_ports() -> int:
    """A port whose next two are free as well (`recon sandbox serve` takes port, +1 and +2).
    Picked below the kernel's ephemeral range, where the free ports other tests are handed
    by bind(0) come from, so none of them takes port+1 meanwhile."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 30_000)
        try:
            with contextlib.ExitStack() as held:
                for p in (port, port + 1, port + 2):
                    s = held.enter_context(socket.socket())
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise AssertionError("no three free ports in a row below the ephemeral range")


def test_recon_sandbox_serve_answers_for_every_provider(tmp_path: Path) -> None:
    port = three_free_ports()
    recon = Path(sys.executable).with_name("recon")
    manifest = tmp_path / "manifest.json"
    cmd = [str(recon), "sandbox", "serve", "--port", str(port), "--seed", "7"]
    proc = subprocess.Popen([*cmd, "--manifest", str(manifest)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("manifest written"):
            lines.append(proc.stdout.readline())
        out = "".join(lines)
        base = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", lines[0])
        cred = re.search(r"customer_id=(\d+) app_id=(\d+) key=([0-9a-f]{32})", lines[2])
        jt = re.search(r"JT wallet sandbox at (http://127\.0\.0\.1:(\d+))\n", out)
        app_id = re.search(r"appId=([0-9a-f]{32})", out)
        key_file = re.search(r"private key \(PKCS#8 PEM\): (\S+)", out)
        whalet = re.search(r"Whalet sandbox at (http://127\.0\.0\.1:(\d+))\n", out)
        ids = re.search(r"partnerId=(P\d{10}) clientId=([0-9a-f]{16}) userIds=(\S+)", out)
        secret_file = re.search(r"secretKey in: (\S+)", out)
        assert base and cred and jt and app_id and key_file and whalet and ids and secret_file, out
        assert (int(jt[2]), int(whalet[2])) == (port + 1, port + 2)

        body = {"customer_id": int(cred[1]), "app_id": int(cred[2]), "key": cred[3]}
        body.update(page_no=1, page_size=10)
        response = wait_for(f"{base[1]}/openApi/wallet/walletList", json=body)
        envelope = response.json()
        assert envelope["code"] == 0 and envelope["data"]["total"] == 5
        assert '"anomalies"' in manifest.read_text()

        key_path, secret_path = Path(key_file[1]), Path(secret_file[1])
        for path in (key_path, secret_path):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        private_pem, secret = key_path.read_bytes(), secret_path.read_text()
        assert b"BEGIN PRIVATE KEY" in private_pem and re.fullmatch(r"[0-9a-f]{32}", secret)
        assert secret not in out and "PRIVATE KEY-----" not in out

        envelope = wait_for(jt[1] + BALANCE, json=jt_body(app_id[1], private_pem)).json()
        assert envelope["code"] == 10000 and envelope["data"]["total"] == 4

        token = whalet_token(whalet[1], ids[1], ids[2], secret)
        headers = {"partnerId": ids[1], "requestNo": "r2", "timestamp": str(now_ms())}
        headers["Authorization"] = f"Bearer {token}"
        body = {"userId": ids[3].split(",")[0], "fundSource": "B2C"}
        envelope = httpx.post(
            f"{whalet[1]}/v1/wallet/queryCurrencyBalance", json=body, headers=headers
        ).json()
        assert envelope["code"] == "SUCCESS" and len(envelope["data"]["records"]) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not key_path.parent.exists()  # the secrets go with the server


def test_serving_all_serves_the_three_providers(clean_world: World) -> None:
    with serving_all(clean_world) as servers:
        assert servers.openapi.base_url.endswith("/v1")
        jt = servers.jt
        body = jt_body(clean_world.jt.app_id, servers.jt_private_key_pem, size=1)
        envelope = httpx.post(jt.base_url + BALANCE, json=body).json()
        assert envelope["code"] == 10000 and len(envelope["data"]["list"]) == 1
        cred = clean_world.whalet.credentials()
        base = servers.whalet.base_url
        assert whalet_token(base, cred["partner_id"], cred["client_id"], cred["secret_key"])
        cred_openapi = clean_world.credentials()[0]
        body = {**cred_openapi, "page_no": 1, "page_size": 1}
        response = httpx.post(f"{servers.openapi.base_url}/openApi/wallet/walletList", json=body)
        assert response.json()["code"] == 0
