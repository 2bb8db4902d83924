"""Decoded websocket frames: the typed records the codec produces.

Every data frame carries the envelope fields ``sequence_num`` (per connection, across all
channels) and ``ts_event_ns`` (the envelope ``timestamp`` as Unix nanoseconds). The records
have no validators: the codec has already checked every field. The level2 records, which
arrive by the hundred thousand a second, are msgspec structs that msgspec decodes and
validates in one pass in C; the ticker and heartbeat records, the next most frequent, are
msgspec structs too, for their constructors' speed (built in C, about half an attrs
``__init__``). The rest are frozen attrs classes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import attrs
import msgspec

from perpsbot.errors import FrameDecodeError
from perpsbot.venue.timestamps import parse_rfc3339_ns

__all__ = [
    "BookSide",
    "BookUpdate",
    "ErrorFrame",
    "Frame",
    "HeartbeatFrame",
    "L2Event",
    "Level2Frame",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesFrame",
    "SkippedFrame",
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


class HeartbeatFrame(msgspec.Struct, frozen=True, kw_only=True, gc=False):
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


class TickerUpdate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One product's ticker; bid/ask fields are None when absent (``ticker_batch``)."""

    product_id: str
    price: Decimal
    best_bid: Decimal | None
    best_ask: Decimal | None
    best_bid_quantity: Decimal | None
    best_ask_quantity: Decimal | None


class TickerFrame(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ``ticker`` or ``ticker_batch`` message, flattened over its events."""

    sequence_num: int
    ts_event_ns: int
    channel: str
    is_snapshot: bool
    tickers: tuple[TickerUpdate, ...]


class BookUpdate(msgspec.Struct, frozen=True, gc=False):
    """One level of a level2 change set: the new absolute size at a price; zero deletes it.

    Prices and sizes are binary floats, decoded in C straight from the wire strings: that is
    what lets the feed thread keep up with a full-speed book. A float holds every decimal of
    up to 15 significant digits exactly enough that ``Decimal(repr(price))`` gives back the
    venue's decimal (trailing zeros aside; a 16th digit and beyond is rounded away); the book
    converts at its edges, so marks and depth come out as ``Decimal``.
    """

    side: Literal["bid", "offer"]
    price_level: Annotated[float, msgspec.Meta(gt=0, lt=1e15)]
    new_quantity: Annotated[float, msgspec.Meta(ge=0, lt=1e15)]


class L2Event(msgspec.Struct, frozen=True, gc=False):
    """One product's level2 snapshot or update. Sizes are absolute; a zero size deletes."""

    type: Literal["snapshot", "update"]
    product_id: str
    updates: tuple[BookUpdate, ...]

    @property
    def is_snapshot(self) -> bool:
        return self.type == "snapshot"


class Level2Frame(msgspec.Struct, frozen=True, gc=False):
    """An ``l2_data`` message (subscribed as ``level2``), decoded by msgspec in one pass.

    ``timestamp`` is kept as the wire text (only its length checked) and parsed on demand by
    :attr:`ts_event_ns`: most frames of a burst are conflated away before anyone asks.
    """

    channel: Literal["l2_data"]
    sequence_num: Annotated[int, msgspec.Meta(ge=0)]
    timestamp: Annotated[str, msgspec.Meta(min_length=20, max_length=40)]
    events: tuple[L2Event, ...]

    @property
    def ts_event_ns(self) -> int:
        """The envelope ``timestamp`` as Unix nanoseconds.

        Raises:
            FrameDecodeError: the timestamp is not RFC 3339.
        """
        try:
            return parse_rfc3339_ns(self.timestamp)
        except ValueError as exc:
            raise FrameDecodeError(
                f"l2_data.timestamp must be an RFC 3339 timestamp, found {self.timestamp!r} ({exc})"
            ) from None


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


class SkippedFrame(msgspec.Struct, frozen=True, gc=False):
    """A message of a channel its consumer asked the feed not to decode for now (see
    :meth:`~perpsbot.venue.feed.WebSocketFeed.skip_undecoded`): only its envelope's channel
    and sequence number were read, so it is not validated either. It tells its consumer that
    market data arrived, and nothing more."""

    channel: str
    sequence_num: int


Frame = (
    HeartbeatFrame
    | SubscriptionsFrame
    | ErrorFrame
    | TickerFrame
    | Level2Frame
    | MarketTradesFrame
    | UserFrame
    | UnknownFrame
    | SkippedFrame
)
