"""Everything the client assumes about Whalet, in one place (providers.md §3).

The currency balance body is documented by Whalet; the token exchange, the envelope codes and
the platform balance endpoint are "defined here". A deployment that finds the real API
differs corrects this module and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.http import BusinessCodes


@dataclass(frozen=True)
class WhaletProfile:
    name: str = "whalet"
    codes: BusinessCodes = field(
        default_factory=lambda: BusinessCodes(
            ok="SUCCESS",
            retryable=frozenset({"TOO_MANY_REQUESTS", "INTERNAL_ERROR"}),
            fatal={
                "UNAUTHORIZED": "Whalet refused the credentials (WHALET_PARTNER_ID, "
                "WHALET_CLIENT_ID, WHALET_SECRET_KEY)",
                "PARAMETER_ERROR": "bad parameter",
                "TokenInvalid": "the Whalet token is invalid or expired",
            },
        )
    )
    token_invalid: str = "TokenInvalid"
    token_path: str = "/v1/auth/token"
    currency_balance_path: str = "/v1/wallet/queryCurrencyBalance"
    platform_balance_path: str = "/v1/wallet/queryPlatformBalance"
    fund_sources: tuple[str, ...] = ("B2C", "B2B", "Acquiring")
    # A cached token is renewed when less than this share of its lifetime is left.
    token_renew_share: float = 0.1
    token_renew_min_seconds: float = 30.0


PROFILE = WhaletProfile()
