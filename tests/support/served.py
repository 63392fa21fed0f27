"""What the sandbox serves (fault-free) and what a run landed, reduced to comparable tuples:
the oracle for "nothing lost, nothing duplicated, nothing changed"."""

from __future__ import annotations

from typing import Any

from sandbox import JtApp, WhaletApp, World, generate_merchant_key
from sandbox.config import FaultConfig
from tests.support.harness import Harness
from tests.support.provider_clients import JtClient, WhaletClient, pull_jt, pull_whalet
from tests.support.worlds import pull_world


def openapi_truth(world: World) -> dict[str, set[tuple[Any, ...]]]:
    """What the sandbox serves (fault-free), reduced to comparable tuples per entity."""
    out: dict[str, set[tuple[Any, ...]]] = {
        k: set() for k in ("tx", "trades", "orders", "cards", "wallets")
    }
    for c in pull_world(world):
        cid = int(c["customer_id"])
        out["tx"] |= {
            (
                cid,
                e["transaction_id"],
                int(e["in_out_type"]),
                e["currency"],
                e["amount"],
                e["before_balance"],
                e["after_balance"],
                int(e["status"]),
            )
            for e in c["entries"]
        }
        out["trades"] |= {
            (cid, t["trade_id"], t["trade_amount"], int(t["trade_result"])) for t in c["trades"]
        }
        out["orders"] |= {
            (cid, o["order_id"], int(o["status"]), o["total_amount"]) for o in c["orders"]
        }
        out["cards"] |= {(cid, k["card_id"], k["balance"], k["limit"]) for k in c["cards"]}
        out["wallets"] |= {(cid, int(w["wallet_id"]), w["available_balance"]) for w in c["wallets"]}
    return out


def openapi_landed(h: Harness) -> dict[str, set[tuple[Any, ...]]]:
    latest = "where _snapshot_at = (select max(_snapshot_at) from {t})"
    return {
        "tx": set(
            h.query(
                "select customer_id, transaction_id, in_out_type, currency, amount, "
                "before_balance, "
                "after_balance, status from raw_openapi__transactions"
            )
        ),
        "trades": set(
            h.query(
                "select customer_id, trade_id, trade_amount, trade_result "
                "from raw_openapi__card_trades"
            )
        ),
        "orders": set(
            h.query("select customer_id, order_id, status, total_amount from raw_openapi__orders")
        ),
        "cards": set(
            h.query(
                'select customer_id, card_id, balance, "limit" from raw_openapi__cards '
                + latest.format(t="raw_openapi__cards")
            )
        ),
        "wallets": set(
            h.query(
                "select customer_id, wallet_id, available_balance from raw_openapi__wallets "
                + latest.format(t="raw_openapi__wallets")
            )
        ),
    }


def jt_truth(world: World) -> set[tuple[Any, ...]]:
    """Every JT balance record the merchant can see: (balanceRefNo, mchUuid, amount, after)."""
    private_pem, public_pem = generate_merchant_key()
    client = JtClient(JtApp(world, public_pem, FaultConfig()), private_pem)
    try:
        records = pull_jt(client)["records"]
    finally:
        client.close()
    return {
        (r["balanceRefNo"], r["mchUuid"], int(r["amount"]), int(r["afterBalance"])) for r in records
    }


def jt_landed(h: Harness) -> list[tuple[Any, ...]]:
    """The JT balance records loaded, one tuple per stored row (duplicates kept)."""
    return h.query(
        "select balance_ref_no, mch_uuid, amount_minor, after_balance_minor "
        "from raw_jt__balance_records"
    )


def whalet_truth(world: World) -> set[tuple[Any, ...]]:
    """Every configured user's balance per fund source and currency: (user, fund, ccy, cent)."""
    client = WhaletClient(WhaletApp(world, FaultConfig()))
    try:
        users = pull_whalet(client)["users"]
    finally:
        client.close()
    return {
        (user, fund, r["currency"], int(r["balance"]["cent"]))
        for (user, fund), records in users.items()
        for r in records
    }


def whalet_landed(h: Harness) -> list[tuple[Any, ...]]:
    """The newest Whalet balances reading, one tuple per stored row."""
    return h.query(
        "select user_id, fund_source, currency, balance_cents from raw_whalet__balances "
        "where _snapshot_at = (select max(_snapshot_at) from raw_whalet__balances)"
    )
