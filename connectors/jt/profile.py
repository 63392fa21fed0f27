"""Everything the client assumes about the JT wallet provider, in one place (providers.md §2).

The transport and the wallet balance endpoint are documented by JT; the balance records rows,
the parameter error code 21000 and the half-open [startTime, endTime) window are "defined
here". A deployment that finds the real API differs corrects this module and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.http import BusinessCodes


@dataclass(frozen=True)
class JtProfile:
    name: str = "jt"
    codes: BusinessCodes = field(
        default_factory=lambda: BusinessCodes(
            ok=10000,
            retryable=frozenset(),
            fatal={
                1002: "this machine's IP address is not on JT's allow list for the merchant",
                21001: "JT rejected the request signature; JT_PRIVATE_KEY_FILE must hold the "
                "private key whose public key is registered with JT for JT_APP_ID",
                21009: "JT rejected the request timestamp as expired; check this machine's "
                "clock (JT allows 5 minutes)",
                21000: "bad parameter",
            },
        )
    )
    users_path: str = "/open-api/jt/wallet/balance"
    records_path: str = "/open-api/wallet/balance/records"
    max_page_size: int = 10_000
    max_window_days: int = 31
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    # JT reports integer minor units without a currency: the wallet is in Thai baht (satang).
    currency: str = "THB"
    user_key: tuple[str, ...] = ("mchUuid",)
    record_key: tuple[str, ...] = ("balanceRefNo",)
    # Response fields holding the sums over every user matching the request.
    total_fields: tuple[str, ...] = (
        "totalBalance",
        "totalBaseBalance",
        "totalCodBalance",
        "totalWithdrawThreshold",
        "totalUnclearBillAmount",
        "totalUnclearBillAmountDue",
    )


PROFILE = JtProfile()
