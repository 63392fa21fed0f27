"""`recon sandbox serve` answers over real HTTP on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from sandbox.serve import free_port


def test_recon_sandbox_serve_answers_a_wallet_list(tmp_path: Path) -> None:
    port = free_port()
    recon = Path(sys.executable).with_name("recon")
    manifest = tmp_path / "manifest.json"
    cmd = [
        str(recon),
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--seed",
        "7",
        "--manifest",
        str(manifest),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        base = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", lines[0])
        cred = re.search(r"customer_id=(\d+) app_id=(\d+) key=([0-9a-f]{32})", lines[2])
        assert base and cred, lines
        body = {
            "customer_id": int(cred[1]),
            "app_id": int(cred[2]),
            "key": cred[3],
            "page_no": 1,
            "page_size": 10,
        }
        for _ in range(100):  # uvicorn binds just after the banner is printed
            try:
                response = httpx.post(f"{base[1]}/openApi/wallet/walletList", json=body)
                break
            except httpx.ConnectError:
                subprocess.run(["sleep", "0.1"], check=True)
        envelope = response.json()
        assert envelope["code"] == 0 and envelope["message"] == "success"
        wallets = envelope["data"]["wallet_list"]
        assert envelope["data"]["total"] == 4 and {w["currency"] for w in wallets} == {
            "USD",
            "HKD",
            "EUR",
            "CNY",
        }
        assert all(re.fullmatch(r"[0-9a-f]{32}", w["wallet_sn"]) for w in wallets)
        assert '"anomalies"' in manifest.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
