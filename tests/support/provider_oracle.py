"""An independent reconciliation of what the JT and Whalet sandboxes serve, in plain Python.

It applies the rules of providers.md §2-3 to the served data and returns every violation as
(provider, check_name, account_id, entity_id), the identities the manifest uses: JT
account = appId, entry -> balanceRefNo, wallet and user -> mchUuid, totals -> the total's
field name; Whalet account = userId, money -> "fundSource:currency:field".
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tests.support.oracle import order_group

Finding = tuple[str, str, str, str]
TOTALS = {
    "totalBalance": "balance",
    "totalBaseBalance": "baseBalance",
    "totalCodBalance": "codBalance",
    "totalWithdrawThreshold": "withdrawThreshold",
    "totalUnclearBillAmount": "unclearBillAmount",
    "totalUnclearBillAmountDue": "unclearBillAmountDue",
}
MONEY_FIELDS = ("balance", "orderQuota", "rmbAmount", "pendingAmount", "freezeAmount")


def jt_chains(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each user's served records in chain order: by createTime, a second's records by linkage."""
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        # order_group links rows by these names (the OPEN-API ones).
        by_user[r["mchUuid"]].append(
            {"before_balance": r["beforeBalance"], "after_balance": r["afterBalance"], "row": r}
        )
    chains = {}
    for user, rows in by_user.items():
        seconds: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            seconds[r["row"]["createTime"]].append(r)
        chain: list[dict[str, Any]] = []
        for second in sorted(seconds):
            current = chain[-1]["after_balance"] if chain else None
            ordered, _ = order_group(current, seconds[second])
            chain.extend(ordered)
        chains[user] = [r["row"] for r in chain]
    return chains


def jt_gaps(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gaps = []
    for user, chain in sorted(jt_chains(records).items()):
        for prev, row in pairwise(chain):
            if row["beforeBalance"] != prev["afterBalance"]:
                gaps.append(
                    {
                        "mchUuid": user,
                        "transaction_ids": [prev["balanceRefNo"], row["balanceRefNo"]],
                        "expected": prev["afterBalance"],
                        "actual": row["beforeBalance"],
                    }
                )
    return gaps


def reconcile_jt(pulled: dict[str, Any]) -> set[Finding]:
    app_id, balance, records = pulled["app_id"], pulled["balance"], pulled["records"]
    found: set[Finding] = set()
    for r in records:
        moved = r["afterBalance"] - r["beforeBalance"]
        signed = r["amount"] if r["type"] == "CREDIT" else -r["amount"]
        if moved != signed:
            found.add(("jt", "entry_arithmetic", app_id, r["balanceRefNo"]))
    for gap in jt_gaps(records):
        found.add(("jt", "chain_gap", app_id, gap["mchUuid"]))
    # The same merchant order moving a user's wallet twice alike: the later booking.
    movements: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["mchOrderId"]:
            key = (r["mchUuid"], r["type"], r["businessType"], r["mchOrderId"], r["amount"])
            movements[key].append(r)
    for booked in movements.values():
        for later in sorted(booked, key=lambda r: (r["createTime"], r["balanceRefNo"]))[1:]:
            found.add(("jt", "duplicate_entry", app_id, later["balanceRefNo"]))
    chains = jt_chains(records)
    for u in balance["list"]:
        chain = chains.get(u["mchUuid"], [])
        if chain and chain[-1]["afterBalance"] != u["balance"]:
            found.add(("jt", "wallet_balance_mismatch", app_id, u["mchUuid"]))
        if u["balance"] != u["baseBalance"] + u["codBalance"]:
            found.add(("jt", "jt_balance_composition", app_id, u["mchUuid"]))
    for total, field in TOTALS.items():
        if balance[total] != sum(u[field] for u in balance["list"]):
            found.add(("jt", "jt_balance_composition", app_id, total))
    return found


def _cent_ok(money: dict[str, Any]) -> bool:
    return bool(Decimal(money["amount"]) * money["centFactor"] == money["cent"])


def reconcile_whalet(pulled: dict[str, Any]) -> set[Finding]:
    found: set[Finding] = set()
    for (user, fund), records in pulled["users"].items():
        for record in records:
            for field in MONEY_FIELDS:
                if not _cent_ok(record[field]):
                    entity = f"{fund}:{record['currency']}:{field}"
                    found.add(("whalet", "money_unit_mismatch", user, entity))
    for records in pulled["platform"].values():
        for record in records:
            for field in MONEY_FIELDS:
                assert _cent_ok(record[field]), ("platform", record)
    # Every user is pulled here, so the platform's balance must be their sum.
    for fund, records in pulled["platform"].items():
        if fund == "all":
            continue
        for record in records:
            users = sum(
                Decimal(r["balance"]["amount"])
                for (_, f), rs in pulled["users"].items()
                for r in rs
                if f == fund and r["currency"] == record["currency"]
            )
            if Decimal(record["balance"]["amount"]) != users:
                partner = pulled["partner_id"]
                entity = f"{fund}:{record['currency']}"
                found.add(("whalet", "whalet_platform_mismatch", partner, entity))
    return found


def manifest_findings(manifest: dict[str, Any], provider: str) -> set[Finding]:
    return {
        (a["provider"], a["check_name"], a["account_id"], a["entity_id"])
        for a in manifest["anomalies"]
        if a["provider"] == provider
    }
