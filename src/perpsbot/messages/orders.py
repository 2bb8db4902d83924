"""Order messages: what the strategy intends, what risk lets through, what the executor reports.

The order path is one direction (DESIGN §2)::

    strategy --OrderIntent--> risk --PlaceOrder--> executor --REST--> venue
                 ^              |  (or OrderDenied)     |
                 +-- OrderUpdated, OrderFilled ---------+--> risk, strategy, journal

An intent's ``intent_id`` is deterministic (the strategy derives it from the symbol, the
decision and the sample cycle that produced it), and the executor derives the venue's
``client_order_id`` from it (:func:`perpsbot.ids.client_order_id`), so the same intent can
never become a second order, whether it is retried, replayed after a crash or sent twice.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from perpsbot.messages._base import (
    non_negative_decimal,
    optional_non_negative_decimal,
    optional_positive_decimal,
    positive_decimal,
)

__all__ = [
    "CancelAllOrders",
    "CancelOrder",
    "DryRunOrder",
    "IntentPurpose",
    "OrderDenied",
    "OrderFilled",
    "OrderIntent",
    "OrderStatus",
    "OrderType",
    "OrderUpdated",
    "PlaceOrder",
    "PollOrders",
    "Side",
    "TimeInForce",
    "TransitionSource",
    "UserFillReport",
    "UserOrderReport",
    "UserOrdersReceived",
]


class Side(enum.StrEnum):
    """The side of an order or a fill."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy (adds to a long), -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class TimeInForce(enum.StrEnum):
    """How long an order may rest: immediate-or-cancel, or good until cancelled."""

    IOC = "IOC"
    GTC = "GTC"


class IntentPurpose(enum.StrEnum):
    """Why the strategy wants the order: to open (or add to) a position, or to reduce one."""

    ENTRY = "entry"
    EXIT = "exit"


@attrs.frozen(kw_only=True)
class OrderIntent:
    """The strategy wants an order; risk decides whether it reaches the executor.

    ``size`` is in the product's base unit for spot and in contracts for futures.
    ``reference_mark`` is the mark the strategy decided on. An intent not submitted by
    ``valid_until_ns`` (wall clock) is never submitted: after a crash, a stale entry must not
    reach the market minutes later.
    """

    message_id: str
    ts_created_ns: int
    intent_id: str = attrs.field(validator=attrs.validators.min_len(1))
    symbol: str
    side: Side
    size: Decimal = attrs.field(validator=positive_decimal)
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = attrs.field(default=None, validator=optional_positive_decimal)
    time_in_force: TimeInForce = TimeInForce.IOC
    post_only: bool = False
    purpose: IntentPurpose = IntentPurpose.ENTRY
    leverage: Decimal | None = attrs.field(default=None, validator=optional_positive_decimal)
    reference_mark: Decimal = attrs.field(validator=positive_decimal)
    reason: str
    valid_until_ns: int

    def __attrs_post_init__(self) -> None:
        if (self.order_type is OrderType.LIMIT) != (self.limit_price is not None):
            raise ValueError(
                f"OrderIntent {self.intent_id}: a limit_price is required for LIMIT orders and "
                f"forbidden for MARKET ones, was {self.order_type} with {self.limit_price!r}"
            )

    @property
    def reduce_only(self) -> bool:
        return self.purpose is IntentPurpose.EXIT


@attrs.frozen(kw_only=True)
class OrderDenied:
    """Risk (or the executor) refused an intent; ``rule`` names the check, ``reason`` the numbers.

    Example reason: ``"notional 12,400.00 USD exceeds max_position_usd 10,000 for BTC-USD"``.
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str
    intent_id: str
    symbol: str
    rule: str
    reason: str
    denied_by: str = "risk"


@attrs.frozen(kw_only=True)
class PlaceOrder:
    """Risk allowed ``intent``; the executor journals it, then submits it exactly once.

    ``checked_mark`` is the price risk checked the intent at (the latest mark, or the limit).
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str
    intent: OrderIntent
    checked_mark: Decimal = attrs.field(validator=positive_decimal)


@attrs.frozen(kw_only=True)
class CancelOrder:
    """Cancel one order, by the client order id the executor gave it."""

    message_id: str
    ts_created_ns: int
    client_order_id: str
    reason: str


@attrs.frozen(kw_only=True)
class CancelAllOrders:
    """Cancel every open order (only entries with ``entries_only``; one symbol if given).

    Sent by risk when the daily loss limit trips (entries only) and by an operator.
    """

    message_id: str
    ts_created_ns: int
    reason: str
    entries_only: bool = False
    symbol: str | None = None


class OrderStatus(enum.StrEnum):
    """An order's life in the executor, with the ambiguous states a real venue forces on us."""

    PENDING_SUBMIT = "pending_submit"
    """Journaled (or being journaled); not yet sent."""
    SUBMITTED = "submitted"
    """Sent; no acknowledgement yet (a lost ack is settled by client order id)."""
    ACKNOWLEDGED = "acknowledged"
    """The venue accepted it and it rests or is being matched."""
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_PENDING = "cancel_pending"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """The venue's answer was lost and a lookup could not settle it yet; reconciliation will."""

    @property
    def terminal(self) -> bool:
        """True once the order can change no more."""
        return self in _TERMINAL

    @property
    def open(self) -> bool:
        """True while the order may still fill (or is not known not to exist)."""
        return not self.terminal


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class TransitionSource(enum.StrEnum):
    """What drove an order transition."""

    LOCAL = "local"
    """The executor itself (journaled, quantization rejected it, expired before submission)."""
    REST = "rest"
    USER_CHANNEL = "user_channel"
    POLL = "poll"
    RECONCILIATION = "reconciliation"
    DRY_RUN = "dry_run"


@attrs.frozen(kw_only=True)
class OrderUpdated:
    """An order moved from ``previous`` to ``status``; published by the executor.

    Sizes are in the product's base unit (spot) or contracts (futures); ``size`` is what was
    submitted after quantization. ``booked_size`` is the part of ``filled_size`` the portfolio
    has booked in the position (as the executor knew when it published this). A terminal
    status is published only once every filled unit is booked (:attr:`settled`): until then
    the order is in flight for everyone, by :attr:`unsettled_size`.
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str
    intent_id: str
    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: Side
    purpose: IntentPurpose
    order_type: OrderType
    size: Decimal
    limit_price: Decimal | None
    filled_size: Decimal
    average_fill_price: Decimal | None
    previous: OrderStatus | None
    status: OrderStatus
    source: TransitionSource
    reason: str = ""
    booked_size: Decimal = attrs.field(default=Decimal(0), validator=non_negative_decimal)

    @property
    def settled(self) -> bool:
        """True once the order is finished for everyone: terminal at the venue and every
        filled unit booked in the position."""
        return self.status.terminal and self.booked_size >= self.filled_size

    @property
    def unsettled_size(self) -> Decimal:
        """What this order may still move the position by, beyond what is booked: the whole
        order while it is open, the filled part not yet booked once it is terminal."""
        bound = self.filled_size if self.status.terminal else self.size
        return max(bound - self.booked_size, Decimal(0))


@attrs.frozen(kw_only=True)
class OrderFilled:
    """One execution of one of our orders (deduplicated by ``fill_id``; never dropped).

    ``contract_size`` turns contracts into base units for futures (1 for spot), so
    ``price * size * contract_size`` is the fill's notional in the quote currency.
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str
    fill_id: str
    intent_id: str
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    price: Decimal = attrs.field(validator=positive_decimal)
    size: Decimal = attrs.field(validator=positive_decimal)
    fee: Decimal
    contract_size: Decimal = attrs.field(default=Decimal(1), validator=positive_decimal)
    liquidity: str = ""
    ts_event_ns: int
    purpose: IntentPurpose = IntentPurpose.ENTRY

    @property
    def notional(self) -> Decimal:
        return self.price * self.size * self.contract_size


@attrs.frozen(kw_only=True)
class DryRunOrder:
    """``perpsbot run --dry-run``: the order the executor would have sent, in full; nothing
    reached the venue. ``request`` is the exact JSON body of ``POST /orders``."""

    message_id: str
    ts_created_ns: int
    correlation_id: str
    intent_id: str
    client_order_id: str
    symbol: str
    request: str


@attrs.frozen(kw_only=True)
class PollOrders:
    """The executor's own timer: poll in-flight orders over REST (only while the user channel
    is unhealthy)."""


@attrs.frozen(kw_only=True)
class UserOrderReport:
    """One order as the venue's ``user`` channel reported it: what the executor needs of it.

    ``status`` is the venue's word for the order's state (``OPEN``, ``FILLED``, ...);
    ``filled_size`` is cumulative, so a restatement never adds to what came before, and
    ``average_price`` is the venue's (0 until something filled).
    """

    venue_order_id: str
    client_order_id: str
    status: str
    filled_size: Decimal = attrs.field(validator=non_negative_decimal)
    average_price: Decimal | None = attrs.field(validator=optional_non_negative_decimal)


@attrs.frozen(kw_only=True)
class UserFillReport:
    """One fill of one of the bot's orders as a venue's user channel reported it (a venue
    whose channel carries trades: the Global gateway's ``user.trades``); sizes in the order's
    units (contracts for a future)."""

    fill_id: str = attrs.field(validator=attrs.validators.min_len(1))
    venue_order_id: str
    side: Side | None
    price: Decimal = attrs.field(validator=positive_decimal)
    size: Decimal = attrs.field(validator=positive_decimal)
    fee: Decimal
    liquidity: str
    ts_ns: int | None


@attrs.frozen(kw_only=True)
class UserOrdersReceived:
    """Order updates (and, where the venue's channel carries them, fills) from the user
    channel, told to the executor from the user feed's thread (a snapshot restates the open
    orders)."""

    orders: tuple[UserOrderReport, ...]
    snapshot: bool
    ts_received_ns: int
    fills: tuple[UserFillReport, ...] = ()
    fills_follow: bool = False
    """The channel reports the orders' fills too (here or in a later message): the executor
    waits for them rather than reading them at once (its poll reads the ones that lag)."""
