"""Decoded websocket frames: the typed records the codec produces.

Every data frame carries the envelope fields ``sequence_num`` (per connection, across all
channels) and ``ts_event_ns`` (the envelope ``timestamp`` as Unix nanoseconds). Records are
frozen attrs classes with slots and no validators: the codec has already checked every field,
and these objects sit on the hot path.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = [
    "BookSide",
    "ErrorFrame",
    "Frame",
    "HeartbeatFrame",
    "L2Event",
    "Level2Frame",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesFrame",
    "SubscriptionsFrame",
    "TickerFrame",
    "TickerUpdate",
    "UnknownFrame",
    "UserEvent",
    "UserFrame",
    "UserOrderUpdate",
]

#: One side of a book change set: ``(price, new absolute size)`` pairs in wire order.
BookSide = tuple[tuple[Decimal, Decimal], ...]


@attrs.frozen(kw_only=True, slots=True)
class HeartbeatFrame:
    """A ``heartbeats`` message; ``counter`` rises by one each second."""

    sequence_num: int
    ts_event_ns: int
    counter: int


@attrs.frozen(kw_only=True, slots=True)
class SubscriptionsFrame:
    """The server's acknowledgement listing every active subscription, channel -> product ids."""

    sequence_num: int
    ts_event_ns: int
    subscriptions: dict[str, tuple[str, ...]]


@attrs.frozen(kw_only=True, slots=True)
class ErrorFrame:
    """A flat ``{"type": "error"}`` message; it has no envelope and no sequence number."""

    message: str
    sequence_num: int = -1


@attrs.frozen(kw_only=True, slots=True)
class TickerUpdate:
    """One product's ticker; bid/ask fields are None when absent (``ticker_batch``)."""

    product_id: str
    price: Decimal
    best_bid: Decimal | None
    best_ask: Decimal | None
    best_bid_quantity: Decimal | None
    best_ask_quantity: Decimal | None


@attrs.frozen(kw_only=True, slots=True)
class TickerFrame:
    """A ``ticker`` or ``ticker_batch`` message, flattened over its events."""

    sequence_num: int
    ts_event_ns: int
    channel: str
    is_snapshot: bool
    tickers: tuple[TickerUpdate, ...]


@attrs.frozen(kw_only=True, slots=True)
class L2Event:
    """One product's level2 snapshot or update. Sizes are absolute; a zero size deletes."""

    product_id: str
    is_snapshot: bool
    bids: BookSide
    asks: BookSide


@attrs.frozen(kw_only=True, slots=True)
class Level2Frame:
    """An ``l2_data`` message (subscribed as ``level2``)."""

    sequence_num: int
    ts_event_ns: int
    events: tuple[L2Event, ...]


@attrs.frozen(kw_only=True, slots=True)
class MarketTrade:
    """One public trade; ``side`` is the *maker's* side, ``BUY`` or ``SELL``."""

    trade_id: str
    product_id: str
    price: Decimal
    size: Decimal
    side: str
    ts_trade_ns: int


@attrs.frozen(kw_only=True, slots=True)
class MarketTradesEvent:
    """A batch of trades; a snapshot replays trades from before the subscription."""

    is_snapshot: bool
    trades: tuple[MarketTrade, ...]


@attrs.frozen(kw_only=True, slots=True)
class MarketTradesFrame:
    """A ``market_trades`` message."""

    sequence_num: int
    ts_event_ns: int
    events: tuple[MarketTradesEvent, ...]


@attrs.frozen(kw_only=True, slots=True)
class UserOrderUpdate:
    """One order as the ``user`` channel reports it (its field names, not REST's)."""

    order_id: str
    client_order_id: str
    product_id: str
    side: str
    order_type: str
    status: str
    cumulative_quantity: Decimal
    leaves_quantity: Decimal
    avg_price: Decimal | None
    limit_price: Decimal | None
    total_fees: Decimal
    filled_value: Decimal | None
    number_of_fills: int
    post_only: bool
    reject_reason: str
    cancel_reason: str
    ts_created_ns: int | None


@attrs.frozen(kw_only=True, slots=True)
class UserEvent:
    """A snapshot (open orders, batched by 50) or an update of the user's orders."""

    is_snapshot: bool
    orders: tuple[UserOrderUpdate, ...]


@attrs.frozen(kw_only=True, slots=True)
class UserFrame:
    """A ``user`` message."""

    sequence_num: int
    ts_event_ns: int
    events: tuple[UserEvent, ...]


@attrs.frozen(kw_only=True, slots=True)
class UnknownFrame:
    """A well-formed envelope on a channel we do not decode; it still consumes a sequence number."""

    sequence_num: int
    ts_event_ns: int
    channel: str


Frame = (
    HeartbeatFrame
    | SubscriptionsFrame
    | ErrorFrame
    | TickerFrame
    | Level2Frame
    | MarketTradesFrame
    | UserFrame
    | UnknownFrame
)
