"""The executor's order state machine: which transitions are possible, and what the venue's
statuses mean in it.

Every transition but one made by reconciliation must be in :data:`TRANSITIONS`. Reconciliation
reports the venue's truth, so it may move any order anywhere (even out of a terminal state:
an order settled EXPIRED as "never reached the venue" that later shows up there). Anything
else that is not in the table is impossible: the executor logs and counts it, keeps the order
as it was, and lets reconciliation settle it.

A change of the filled size inside PARTIALLY_FILLED or CANCEL_PENDING is a transition to the
same state; any other same-state "transition" is no change at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

import attrs

from perpsbot.messages import (
    IntentPurpose,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    Stamper,
    TransitionSource,
)
from perpsbot.venue.gateway import NewOrder, VenueFill

_S = OrderStatus

#: From each state (None: the order is new), the states a non-reconciliation source may move
#: it to.
TRANSITIONS: Mapping[OrderStatus | None, frozenset[OrderStatus]] = {
    None: frozenset({_S.PENDING_SUBMIT}),
    _S.PENDING_SUBMIT: frozenset({_S.SUBMITTED, _S.EXPIRED, _S.CANCELLED, _S.REJECTED}),
    _S.SUBMITTED: frozenset(
        {
            _S.ACKNOWLEDGED,
            _S.PARTIALLY_FILLED,
            _S.FILLED,
            _S.CANCEL_PENDING,
            _S.CANCELLED,
            _S.EXPIRED,
            _S.REJECTED,
            _S.UNKNOWN,
        }
    ),
    _S.UNKNOWN: frozenset(
        {
            _S.SUBMITTED,
            _S.ACKNOWLEDGED,
            _S.PARTIALLY_FILLED,
            _S.FILLED,
            _S.CANCEL_PENDING,
            _S.CANCELLED,
            _S.EXPIRED,
            _S.REJECTED,
        }
    ),
    _S.ACKNOWLEDGED: frozenset(
        {_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCEL_PENDING, _S.CANCELLED, _S.EXPIRED, _S.REJECTED}
    ),
    _S.PARTIALLY_FILLED: frozenset(
        {_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCEL_PENDING, _S.CANCELLED, _S.EXPIRED}
    ),
    _S.CANCEL_PENDING: frozenset(
        {
            _S.CANCEL_PENDING,
            _S.ACKNOWLEDGED,
            _S.PARTIALLY_FILLED,
            _S.FILLED,
            _S.CANCELLED,
            _S.EXPIRED,
        }
    ),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
}

#: States in which an order may still fill: what the executor polls and reconciles.
IN_FLIGHT = frozenset(
    {_S.SUBMITTED, _S.UNKNOWN, _S.ACKNOWLEDGED, _S.PARTIALLY_FILLED, _S.CANCEL_PENDING}
)


def allowed(previous: OrderStatus | None, status: OrderStatus, source: TransitionSource) -> bool:
    """True if ``source`` may move an order from ``previous`` to ``status``."""
    if source is TransitionSource.RECONCILIATION:
        return True
    return status in TRANSITIONS[previous]


_OPEN = frozenset({"PENDING", "QUEUED", "OPEN"})
_CLOSED = {
    "FILLED": _S.FILLED,
    "CANCELLED": _S.CANCELLED,
    "EXPIRED": _S.EXPIRED,
    "FAILED": _S.REJECTED,
    "CANCEL_QUEUED": _S.CANCEL_PENDING,
}


def venue_state(status: str, filled: Decimal) -> OrderStatus | None:
    """What the venue's order ``status`` (REST or user channel) means here; None if it says
    nothing (``UNKNOWN_ORDER_STATUS`` or a status we do not know)."""
    status = status.upper()
    if status in _OPEN:
        return _S.PARTIALLY_FILLED if filled > 0 else _S.ACKNOWLEDGED
    return _CLOSED.get(status)


@attrs.frozen(kw_only=True)
class TrackedOrder:
    """One order as the executor knows it (changed with :func:`attrs.evolve`).

    ``intent`` is None for an order adopted from the venue (one of ours, found there, that
    the journal did not know), and ``intent`` and ``request`` both once the order is
    finished (settled, every fill published): the ledger keeps the rest. ``filled_size`` is
    the venue's cumulative filled size; ``fills_size`` is the total of the fills published (as
    ``OrderFilled``) so far, which lags behind while the venue's fill list does;
    ``booked_size`` lags behind that until the portfolio's ``PositionChanged`` says the fills
    are booked.
    """

    intent_id: str
    client_order_id: str
    correlation_id: str
    symbol: str
    side: Side
    purpose: IntentPurpose
    order_type: OrderType
    size: Decimal
    limit_price: Decimal | None
    contract_size: Decimal
    status: OrderStatus
    intent: OrderIntent | None = None
    request: NewOrder | None = None
    venue_order_id: str | None = None
    filled_size: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    fill_ids: frozenset[str] = frozenset()
    fills_size: Decimal = Decimal(0)
    cancel_requested: bool = False
    journaled: bool = False
    """The journal committed its intent: it may be sent (when the trading state allows)."""
    restored: bool = False
    """Held from the journal at a start. Where client ids are deduplicated even a
    PENDING_SUBMIT may have been sent (its SUBMITTED is journaled after the fact, and may be
    lost with the process); where they are not, a request goes out only once the journal
    holds its SUBMITTED, so a PENDING_SUBMIT was never sent."""
    never_sent: bool = False
    """It has not reached the venue: it left PENDING_SUBMIT for a terminal status, or it is
    SUBMITTED and waits for the journal before it is written, or ended so (where client ids
    are not deduplicated, no venue order carrying its id is ours)."""
    missing: int = 0
    """Reconciliations in a row that did not find this order at the venue."""
    booked_size: Decimal = Decimal(0)
    """The part of the published fills the portfolio has booked in the position."""
    published: OrderStatus | None = None
    """The status last published: a terminal status waits until the order is settled."""
    vanished_ns: int | None = None
    """When reconciliation found the venue had stopped showing it (business time): it stays in
    flight a while longer, in case the venue's lists lag even more."""
    ended_by: tuple[TransitionSource, str] | None = None
    """What moved it to its terminal status (source, reason), published once settled."""

    @property
    def remaining(self) -> Decimal:
        return max(self.size - self.filled_size, Decimal(0))

    @property
    def settled(self) -> bool:
        """Terminal at the venue and every filled unit booked: finished for everyone."""
        return self.status.terminal and self.booked_size >= self.filled_size

    @property
    def unsettled_size(self) -> Decimal:
        """What it may still move the position by beyond what is booked (see
        :attr:`~perpsbot.messages.OrderUpdated.unsettled_size`)."""
        bound = self.filled_size if self.status.terminal else self.size
        return max(bound - self.booked_size, Decimal(0))

    @property
    def fills_behind(self) -> bool:
        """True while fewer fills were published than the venue says filled."""
        return self.fills_size < self.filled_size

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def unsent(self) -> bool:
        """Journaled, and no venue order id known: sending it may still create the order."""
        return (
            self.journaled
            and self.venue_order_id is None
            and self.status in (_S.PENDING_SUBMIT, _S.SUBMITTED, _S.UNKNOWN)
        )

    @property
    def valid_until_ns(self) -> int | None:
        return None if self.intent is None else self.intent.valid_until_ns


class FillOwner(Protocol):
    """What an order must say of itself for one of its fills to be published."""

    @property
    def correlation_id(self) -> str: ...
    @property
    def intent_id(self) -> str: ...
    @property
    def client_order_id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def contract_size(self) -> Decimal: ...
    @property
    def purpose(self) -> IntentPurpose: ...


def fill_message(
    order: FillOwner,
    fill: VenueFill,
    *,
    fill_id: str,
    stamper: Stamper,
    now_ns: Callable[[], int],
) -> OrderFilled:
    """The ``OrderFilled`` of ``fill``, a fill of ``order``: the one place the executor's
    ledger and the reconciliation's sweep build it."""
    message_id, ts = stamper.stamp()
    return OrderFilled(
        message_id=message_id,
        ts_created_ns=ts,
        correlation_id=order.correlation_id,
        fill_id=fill_id,
        intent_id=order.intent_id,
        client_order_id=order.client_order_id,
        venue_order_id=fill.venue_order_id,
        symbol=order.symbol,
        side=fill.side or order.side,
        price=fill.price,
        size=fill.size,
        fee=fill.fee,
        contract_size=order.contract_size,
        liquidity=fill.liquidity,
        ts_event_ns=fill.ts_ns or now_ns(),
        purpose=order.purpose,
    )
