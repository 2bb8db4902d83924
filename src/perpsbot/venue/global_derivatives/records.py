"""Typed records of the Global Derivatives gateway's answers and notifications (msgspec).

Numbers arrive as JSON numbers and become Decimal without passing through float; unknown
fields are ignored (the venue adds ``usIn``/``usOut`` and more). Field names are the venue's
(docs/venues/global-derivatives.md 1.5 to 1.9, 1.14); nothing here crosses the venue gateway.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "AccountSummary",
    "AuthAnswer",
    "BookLevel",
    "BookNotice",
    "FundingNotice",
    "Instrument",
    "Order",
    "PlacedOrder",
    "Position",
    "Ticker",
    "UserTrade",
]


class AuthAnswer(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: str = "bearer"
    refresh_token: str | None = None


class Instrument(msgspec.Struct, frozen=True):
    instrument_name: str
    kind: str
    instrument_type: str
    base_currency: str
    settlement_currency: str
    tick_size: Decimal
    contract_size: Decimal
    min_trade_amount: Decimal
    is_active: bool = True
    settlement_period: str = ""
    tick_size_steps: list[dict[str, Decimal]] = msgspec.field(default_factory=list)
    max_leverage: int | None = None


class Order(msgspec.Struct, frozen=True):
    """An order as the venue shows it; ``price`` None for a market order ("market_price").

    ``filled_amount`` is absent from an untriggered order (the documented ``private/cancel``
    answer, tests/venue/global_derivatives/test_wire_examples.py): read as nothing filled.
    """

    order_id: str
    instrument_name: str
    direction: str
    order_state: str
    amount: Decimal
    creation_timestamp: int
    filled_amount: Decimal = Decimal(0)
    label: str = ""
    contracts: Decimal | None = None
    price: Decimal | None = None
    average_price: Decimal | None = None
    order_type: str = "limit"
    original_order_type: str | None = None
    time_in_force: str = ""
    post_only: bool = False
    reduce_only: bool = False
    last_update_timestamp: int = 0
    cancel_reason: str | None = None


class UserTrade(msgspec.Struct, frozen=True):
    trade_id: str
    order_id: str
    instrument_name: str
    direction: str
    price: Decimal
    amount: Decimal
    timestamp: int
    label: str = ""
    contracts: Decimal | None = None
    fee: Decimal = Decimal(0)
    fee_currency: str = ""
    liquidity: str = ""
    state: str = ""


class PlacedOrder(msgspec.Struct, frozen=True):
    """The answer to ``private/buy``/``private/sell``."""

    order: Order
    trades: list[UserTrade] = msgspec.field(default_factory=list)


class Position(msgspec.Struct, frozen=True):
    instrument_name: str
    direction: str
    size: Decimal
    average_price: Decimal
    mark_price: Decimal
    initial_margin: Decimal = Decimal(0)
    maintenance_margin: Decimal = Decimal(0)
    floating_profit_loss: Decimal = Decimal(0)
    realized_profit_loss: Decimal = Decimal(0)
    estimated_liquidation_price: Decimal | None = None
    index_price: Decimal | None = None
    kind: str = "future"
    realized_funding: Decimal | None = None
    """Perpetuals only: the funding of the current session, inside ``realized_profit_loss``
    until the daily settlement moves it into the balance (1.13)."""


class AccountSummary(msgspec.Struct, frozen=True):
    currency: str
    balance: Decimal
    equity: Decimal
    margin_balance: Decimal
    available_funds: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    total_pl: Decimal = Decimal(0)
    session_rpl: Decimal = Decimal(0)
    session_upl: Decimal = Decimal(0)
    margin_model: str = ""


class Ticker(msgspec.Struct, frozen=True):
    instrument_name: str
    timestamp: int
    mark_price: Decimal
    index_price: Decimal
    best_bid_price: Decimal | None = None
    best_ask_price: Decimal | None = None
    best_bid_amount: Decimal = Decimal(0)
    best_ask_amount: Decimal = Decimal(0)
    last_price: Decimal | None = None
    current_funding: Decimal | None = None
    funding_8h: Decimal | None = None


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    """``[action, price, amount]``: ``new``, ``change`` or ``delete``."""

    action: str
    price: Decimal
    amount: Decimal


class BookNotice(msgspec.Struct, frozen=True):
    """A ``book.*`` notification: a snapshot, or changes chained by ``prev_change_id``."""

    instrument_name: str
    timestamp: int
    change_id: int
    bids: list[BookLevel]
    asks: list[BookLevel]
    type: str = "change"
    prev_change_id: int | None = None


class FundingNotice(msgspec.Struct, frozen=True):
    """A ``perpetual.*`` notification: the current funding rate and the index."""

    interest: Decimal
    timestamp: int
    index_price: Decimal
