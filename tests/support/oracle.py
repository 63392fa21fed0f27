"""An independent reconciliation of what the sandbox serves, in plain Python and Decimal.

It applies reconciliation.md §2 to the served rows and returns every violation as
(check_name, customer_id, entity_id), the same identities the manifest uses:
entry -> transaction_id, wallet -> "customer:currency", exchange -> transaction_id,
order -> order_id, card -> card_id, duplicate -> the later transaction_id.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Finding = tuple[str, int, str]
CENT = Decimal("0.01")


def _signed(e: dict[str, Any]) -> Decimal:
    amount: Decimal = e["amount"]
    return amount if e["in_out_type"] == 1 else -amount


def _true_signed(e: dict[str, Any]) -> Decimal:
    """The movement the balances show (which is what links the chain)."""
    after: Decimal = e["after_balance"]
    before: Decimal = e["before_balance"]
    return after - before


def order_group(current: Decimal | None, group: list[dict[str, Any]]) -> tuple[list[Any], int]:
    """Order entries of equal time by balance linkage; returns (order, number of unlinked)."""
    best: tuple[list[Any], int] = (group, len(group) + 1)

    def dfs(cur: Decimal | None, chosen: list[Any], rest: list[Any], gaps: int) -> None:
        nonlocal best
        if gaps >= best[1]:
            return
        if not rest:
            best = (chosen, gaps)
            return
        linked = [e for e in rest if cur is not None and e["before_balance"] == cur]
        for e in linked or rest:
            extra = 0 if (cur is None or e["before_balance"] == cur) else 1
            dfs(e["after_balance"], [*chosen, e], [r for r in rest if r is not e], gaps + extra)

    dfs(current, [], group, 0)
    return best


def chain_findings(cid: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gaps in each wallet chain, with the neighbours and amounts reconciliation.md asks for."""
    by_ccy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        by_ccy[e["currency"]].append(e)
    gaps = []
    for ccy, rows in sorted(by_ccy.items()):
        rows.sort(key=lambda e: (e["transaction_time"], e["create_at"]))
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for e in rows:
            groups[(e["transaction_time"], e["create_at"])].append(e)
        prev: dict[str, Any] | None = None
        for key in sorted(groups):
            ordered, _ = order_group(prev["after_balance"] if prev else None, groups[key])
            for e in ordered:
                if prev is not None and e["before_balance"] != prev["after_balance"]:
                    gaps.append(
                        {
                            "entity_id": f"{cid}:{ccy}",
                            "transaction_ids": [prev["transaction_id"], e["transaction_id"]],
                            "expected": prev["after_balance"],
                            "actual": e["before_balance"],
                        }
                    )
                prev = e
    return gaps


def wallet_chain_end(entries: list[dict[str, Any]], currency: str) -> Decimal | None:
    rows = [e for e in entries if e["currency"] == currency]
    if not rows:
        return None
    rows.sort(key=lambda e: (e["transaction_time"], e["create_at"]))
    last_key = (rows[-1]["transaction_time"], rows[-1]["create_at"])
    tail = [e for e in rows if (e["transaction_time"], e["create_at"]) == last_key]
    before_tail = [e for e in rows if (e["transaction_time"], e["create_at"]) < last_key]
    start = before_tail[-1]["after_balance"] if before_tail else None
    ordered, _ = order_group(start, tail)
    return Decimal(ordered[-1]["after_balance"])


def reconcile(customer: dict[str, Any], fx_tolerance_bps: int = 50) -> set[Finding]:
    cid = int(customer["customer_id"])
    entries = customer["entries"]
    found: set[Finding] = set()

    for e in entries:
        if _true_signed(e) != _signed(e):
            found.add(("entry_arithmetic", cid, e["transaction_id"]))

    for gap in chain_findings(cid, entries):
        found.add(("chain_gap", cid, gap["entity_id"]))

    keys: dict[tuple[Any, ...], dict[str, Any]] = {}
    movements: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        key = (e["transaction_id"], e["in_out_type"], e["currency"])
        if key in keys and keys[key] != e:
            found.add(("duplicate_entry", cid, e["transaction_id"]))
        keys[key] = e
        if e["out_transaction_id"]:
            movement = (
                e["currency"],
                e["in_out_type"],
                e["transaction_type"],
                e["out_transaction_id"],
                e["amount"],
            )
            movements[movement].append(e)
    for rows in movements.values():
        if len({r["transaction_id"] for r in rows}) > 1:
            rows.sort(key=lambda e: (e["transaction_time"], e["create_at"]))
            found.add(("duplicate_entry", cid, rows[-1]["transaction_id"]))

    for w in customer["wallets"]:
        end = wallet_chain_end(entries, w["currency"])
        if end is not None and end != w["available_balance"]:
            found.add(("wallet_balance_mismatch", cid, f"{cid}:{w['currency']}"))
        # One reading cannot show a frozen wallet moving (that needs two frozen readings
        # around the movement); a negative freeze_balance it can.
        if w["freeze_balance"] < 0:
            found.add(("wallet_freeze_mismatch", cid, f"{cid}:{w['currency']}"))

    legs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        if e["transaction_type"] == 3010:
            legs[e["transaction_id"]].append(e)
    for tx_id, pair in legs.items():
        expense = [e for e in pair if e["in_out_type"] == 2]
        income = [e for e in pair if e["in_out_type"] == 1]
        if len(expense) != 1 or len(income) != 1 or expense[0]["currency"] == income[0]["currency"]:
            found.add(("fx_missing_leg", cid, tx_id))
            continue
        attach = json.loads(expense[0]["attach"], parse_float=Decimal)
        rate = Decimal(attach["exchange_rate"])
        expected = (expense[0]["amount"] * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(income[0]["amount"] - expected) > CENT:
            found.add(("fx_amount_mismatch", cid, tx_id))
        reference = customer["rates"][(expense[0]["currency"], income[0]["currency"])]
        if abs(rate - reference) / reference * 10_000 > fx_tolerance_bps:
            found.add(("fx_rate_deviation", cid, tx_id))

    by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        if e["record_id"]:
            by_record[e["record_id"]].append(e)
    principal: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    closed_by_order: set[str] = set()
    for o in customer["orders"]:
        rows = by_record.get(o["order_id"], [])
        if o["status"] != 2:
            if rows:
                found.add(("order_debit_mismatch", cid, o["order_id"]))
            continue
        if o["order_type"] in (1, 2):
            principal[o["card_id"]] += o["amount"]
        else:
            refunded[o["card_id"]] += o["amount"]
            closed_by_order.add(o["card_id"])
        if not rows:
            found.add(("order_debit_missing", cid, o["order_id"]))
        elif len(rows) > 1 or rows[0]["amount"] != o["total_amount"]:
            found.add(("order_debit_mismatch", cid, o["order_id"]))

    effects: dict[str, Decimal] = defaultdict(Decimal)
    for t in customer["trades"]:
        if t["trade_result"] == 1 and t["trade_type"] in (1, 4):
            effects[t["card_id"]] -= t["trade_amount"]
        elif t["trade_result"] == 1 and t["trade_type"] in (2, 3):
            effects[t["card_id"]] += t["trade_amount"]
    for k in customer["cards"]:
        cid_ = k["card_id"]
        balance = principal[cid_] + effects[cid_] - refunded[cid_]
        if balance != k["balance"] or principal[cid_] != k["limit"]:
            found.add(("card_balance_mismatch", cid, cid_))
        # Every card's history is served whole, so what it held when closed is known.
        held = principal[cid_] + effects[cid_]
        refund_differs = cid_ in closed_by_order and refunded[cid_] != held
        if k["status"] == 5 and (k["balance"] != 0 or refund_differs):
            found.add(("closed_card_balance", cid, cid_))
    return found | refund_findings(cid, customer["trades"]) | payment_findings(cid, entries)


def refund_findings(cid: int, trades: list[dict[str, Any]]) -> set[Finding]:
    """Successful refunds and reversals against the successful purchase (or fee) they name."""
    found: set[Finding] = set()
    by_id = {t["trade_id"]: t for t in trades}
    credited: dict[str, Decimal] = defaultdict(Decimal)
    for t in trades:
        if t["trade_result"] != 1 or t["trade_type"] not in (2, 3):
            continue
        origin = by_id.get(t["origin_trade_id"]) if t["origin_trade_id"] else None
        if origin is None or origin["trade_type"] not in (1, 4) or origin["trade_result"] != 1:
            found.add(("refund_without_origin", cid, t["trade_id"]))
        else:
            credited[origin["trade_id"]] += t["trade_amount"]
    for trade_id, amount in credited.items():
        if amount > by_id[trade_id]["trade_amount"]:
            found.add(("refund_exceeds_origin", cid, trade_id))
    return found


def payment_findings(cid: int, entries: list[dict[str, Any]]) -> set[Finding]:
    """Payments against their attach (pay-out + fee) and against their 5020 returns."""
    found: set[Finding] = set()
    returned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in entries:
        if e["transaction_type"] == 5020 and e["in_out_type"] == 1 and e["record_id"]:
            returned[(e["record_id"], e["currency"])] += e["amount"]
    for e in entries:
        if e["transaction_type"] != 5010:
            continue
        if e["attach"]:
            attach = json.loads(e["attach"], parse_float=Decimal, parse_int=Decimal)
            stated = Decimal(attach["pay_out_amount"]) + Decimal(attach["fee_detail"]["fee"])
            if stated != e["amount"]:
                found.add(("payment_fee_mismatch", cid, e["transaction_id"]))
        back = returned[(e["record_id"], e["currency"])] if e["record_id"] else Decimal(0)
        if back > e["amount"] or (e["status"] == 3 and back < e["amount"]):
            found.add(("payment_return_missing", cid, e["transaction_id"]))
    return found


def manifest_findings(manifest: dict[str, Any]) -> set[Finding]:
    """The OPEN-API rows of a manifest (the other providers have their own oracle)."""
    return {
        (a["check_name"], a["customer_id"], a["entity_id"])
        for a in manifest["anomalies"]
        if a["provider"] == "openapi"
    }


def transfer_findings(
    customers: list[dict[str, Any]], jt_records: list[dict[str, Any]]
) -> set[Finding]:
    """Transfers between OPEN-API and JT (providers.md §4), matched by reference: a payment
    whose attach names a JT destination against the JT credit of its `transfer_ref`, a
    deposit with remark `TRANSFER <ref>` against the JT debit. JT money is minor units."""
    found: set[Finding] = set()
    jt: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in jt_records:
        jt[(r["type"], r["mchOrderId"])] += Decimal(r["amount"]) / 100
    for customer in customers:
        cid = customer["customer_id"]
        for e in customer["entries"]:
            if e["transaction_type"] == 5010 and e["status"] == 2 and e["attach"]:
                attach = json.loads(e["attach"], parse_float=Decimal, parse_int=Decimal)
                if "transfer_ref" not in attach or attach["destination"]["provider"] != "jt":
                    continue
                ref, fee = attach["transfer_ref"], Decimal(attach["fee_detail"]["fee"])
                left, arrived = e["amount"], jt.get(("CREDIT", ref))
            elif e["transaction_type"] == 1010 and e["remark"].startswith("TRANSFER "):
                ref, fee = e["remark"].removeprefix("TRANSFER "), Decimal(0)
                left, arrived = jt.get(("DEBIT", ref)), e["amount"]
            else:
                continue
            if left is None or arrived is None:
                found.add(("transfer_unmatched", cid, ref))
            elif arrived < left - fee or arrived > left:
                found.add(("transfer_amount_mismatch", cid, ref))
    return found
