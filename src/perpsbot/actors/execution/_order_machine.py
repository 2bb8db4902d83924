"""The order state machine as pure functions: ``(order, event) -> (order, effects)``.

Each function takes one order as the executor holds it and one event (the venue's status, its
fills, a fill the portfolio booked) and returns the order after it with what that implies, as
effects the :class:`~perpsbot.actors.execution._ledger.OrderLedger` carries out (stamp and publish,
count and log). Nothing here reads a clock, stamps a message or talks to anyone, so every rule
is testable by value.

The rules: a transition not in
:data:`~perpsbot.actors.execution._order_states.TRANSITIONS` (but from
reconciliation, the venue's truth) is refused and changes nothing; a terminal status is
announced only once the order is settled (every filled unit booked), and until then the order
is held terminal and announced as it was; a fill is new once per fill id.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.execution._order_states import TrackedOrder, allowed
from perpsbot.messages import OrderStatus, TransitionSource
from perpsbot.venue.gateway import VenueFill

__all__ = [
    "Announced",
    "Effect",
    "FillSeen",
    "Refused",
    "Step",
    "announced",
    "booked",
    "filled",
    "moved",
]


@attrs.frozen(kw_only=True)
class Announced:
    """Publish the order's state (an ``OrderUpdated`` from ``previous``)."""

    order: TrackedOrder
    previous: OrderStatus | None
    source: TransitionSource
    reason: str


@attrs.frozen(kw_only=True)
class FillSeen:
    """Publish one new fill of the order (an ``OrderFilled``)."""

    order: TrackedOrder
    fill: VenueFill
    fill_id: str


@attrs.frozen(kw_only=True)
class Refused:
    """A transition the state machine does not allow: logged, counted, left to reconciliation."""

    order: TrackedOrder
    status: OrderStatus
    filled_size: Decimal
    source: TransitionSource


Effect = Announced | FillSeen | Refused
Step = tuple[TrackedOrder, tuple[Effect, ...]]


def announced(
    order: TrackedOrder, source: TransitionSource, reason: str = "", **changes: Any
) -> Step:
    """The order's current state, announced as new (``previous`` None), with bookkeeping
    ``changes`` (fields that are no transition) made in the same step."""
    return _announce(order, None, source, reason, changes)


def moved(
    order: TrackedOrder,
    status: OrderStatus,
    source: TransitionSource,
    reason: str = "",
    *,
    filled_size: Decimal | None = None,
    average_fill_price: Decimal | None = None,
    venue_order_id: str | None = None,
    **changes: Any,
) -> Step:
    """The order after the venue (or the executor) said ``status`` and its figures, with
    bookkeeping ``changes`` (fields that are no transition) made whatever the move does.
    One new order per step: this runs between the journal's confirmation and the REST call."""
    filled = order.filled_size if filled_size is None else filled_size
    if status is order.status and filled == order.filled_size:
        if venue_order_id is not None and order.venue_order_id is None:
            changes["venue_order_id"] = venue_order_id
        return (attrs.evolve(order, **changes) if changes else order), ()
    if not allowed(order.status, status, source):
        refused = Refused(order=order, status=status, filled_size=filled, source=source)
        return (attrs.evolve(order, **changes) if changes else order), (refused,)
    known = order.published or order.status  # what subscribers take it to be
    held = status.terminal and order.booked_size < filled  # not settled once moved
    if held:
        # Terminal but not settled (fills unbooked): held, announced once its fills are
        # booked (:func:`booked`).
        changes.update(ended_by=(source, reason), published=known)
    else:
        changes["published"] = status
    after = attrs.evolve(
        order,
        missing=0,
        status=status,
        filled_size=filled,
        average_fill_price=average_fill_price or order.average_fill_price,
        venue_order_id=venue_order_id or order.venue_order_id,
        **changes,
    )
    if held:
        return after, ()
    return after, (Announced(order=after, previous=known, source=source, reason=reason),)


def booked(order: TrackedOrder, size: Decimal) -> Step:
    """The order after the portfolio booked ``size`` of its fills: settled now, it announces
    the terminal status it was held at, with what ended it."""
    after = attrs.evolve(order, booked_size=order.booked_size + size)
    if not after.settled or order.settled:
        return after, ()
    source, reason = after.ended_by or (TransitionSource.LOCAL, "")
    return _announce(after, after.published, source, reason or "every fill booked")


def filled(order: TrackedOrder, fills: Iterable[VenueFill]) -> Step:
    """The order after reading ``fills`` (in trade order): each fill id is new once; a fill
    without an id, size or price is no fill."""
    effects: list[Effect] = []
    for fill in sorted(fills, key=lambda f: (f.ts_ns or 0, f.fill_id)):
        fill_id = fill.fill_id
        if not fill_id or fill_id in order.fill_ids or fill.size <= 0 or fill.price <= 0:
            continue
        effects.append(FillSeen(order=order, fill=fill, fill_id=fill_id))
        order = attrs.evolve(
            order, fill_ids=order.fill_ids | {fill_id}, fills_size=order.fills_size + fill.size
        )
    return order, tuple(effects)


def _announce(
    order: TrackedOrder,
    previous: OrderStatus | None,
    source: TransitionSource,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> Step:
    after = attrs.evolve(order, published=order.status, **(changes or {}))
    return after, (Announced(order=after, previous=previous, source=source, reason=reason),)
