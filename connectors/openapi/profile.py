"""Everything the client assumes about the OPEN-API provider, in one place.

Paths, list keys, paging limits, business codes and entity keys follow providers.md §1. Parts
of that contract are "defined here" rather than documented by the provider: a deployment that
finds the real API differs corrects this module and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.http import BusinessCodes


@dataclass(frozen=True)
class ListEndpoint:
    path: str
    list_key: str
    # Field names of the entity key; with customer_id they identify a row (providers.md §1.3).
    key_fields: tuple[str, ...]
    time_filter: bool = False


@dataclass(frozen=True)
class OpenApiProfile:
    name: str = "openapi"
    codes: BusinessCodes = field(
        default_factory=lambda: BusinessCodes(
            ok=0,
            retryable=frozenset({1003, 5000}),
            fatal={1001: "bad credentials", 1002: "bad parameter"},
        )
    )
    max_page_size: int = 500
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    wallets: ListEndpoint = ListEndpoint(
        "/openApi/wallet/walletList", "wallet_list", ("wallet_id",)
    )
    transactions: ListEndpoint = ListEndpoint(
        "/openApi/wallet/transactionList",
        "transaction_list",
        # transaction_id alone is shared by both legs of an exchange.
        ("transaction_id", "in_out_type", "currency"),
        time_filter=True,
    )
    cards: ListEndpoint = ListEndpoint("/openApi/card/cardList", "card_list", ("card_id",))
    card_trades: ListEndpoint = ListEndpoint(
        "/openApi/card/cardTradeList", "trade_list", ("trade_id",), time_filter=True
    )
    orders: ListEndpoint = ListEndpoint(
        "/openApi/order/orderList", "order_list", ("order_id",), time_filter=True
    )
    wallet_detail_path: str = "/openApi/wallet/walletDetail"
    transaction_bill_path: str = "/openApi/wallet/getTransactionBill"
    exchange_rate_path: str = "/openApi/wallet/exchangeRate"
    card_detail_path: str = "/openApi/card/cardDetail"
    order_detail_path: str = "/openApi/order/orderDetail"

    def endpoint(self, entity: str) -> ListEndpoint:
        endpoint = getattr(self, entity)
        assert isinstance(endpoint, ListEndpoint), entity
        return endpoint


PROFILE = OpenApiProfile()
