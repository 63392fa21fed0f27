"""The same seed and config give byte-identical responses and manifest."""

from __future__ import annotations

from sandbox import FaultConfig, SandboxApp, build_world
from tests.support.sandbox_client import SandboxClient
from tests.support.worlds import SMALL

PATHS = [
    ("/openApi/wallet/walletList", {}),
    ("/openApi/wallet/transactionList", {"start_time": "2026-11-10 00:00:00"}),
    ("/openApi/card/cardList", {}),
    ("/openApi/card/cardTradeList", {}),
    ("/openApi/order/orderList", {}),
]


def responses(seed: int) -> list[bytes]:
    cfg = SMALL.with_anomalies(chain_gap=1, fx_rate_deviation=1, card_balance_mismatch=1)
    world = build_world(type(cfg).from_json({**cfg.to_json(), "seed": seed}))
    app = SandboxApp(world, FaultConfig.every_fault(0.05, slow_seconds=0.0))
    client = SandboxClient(app)
    out = [world.manifest_json().encode()]
    for cred in world.credentials():
        for path, params in PATHS:
            for page in (1, 2, 3):
                body = {**cred, **params, "page_no": page, "page_size": 100}
                response = client.raw(path, body)
                out.append(str(response.status_code).encode() + b" " + response.content)
    client.close()
    return out


def test_same_seed_same_bytes() -> None:
    first, second = responses(5), responses(5)
    assert len(first) == len(second) > 10
    assert first == second


def test_other_seed_other_world() -> None:
    assert responses(5)[0] != responses(6)[0]
