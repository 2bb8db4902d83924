"""The executor's orders, and the only place that changes them: the shell around the pure
state machine of :mod:`~perpsbot.actors.execution._order_machine`.

Every change goes through :meth:`OrderLedger.move` (the venue's status), :meth:`add_fills`
(its fills) or :meth:`book` (the portfolio booked a fill): the machine returns the order after
it and the effects, which the ledger carries out (``OrderUpdated`` and ``OrderFilled``
stamped and published; an impossible transition logged, counted and left for reconciliation,
the order staying as it was).

Settled means booked: a terminal status is published only once every filled unit is booked
in the position. Until then the order is held terminal here (it is not polled again) but
published as it was, with its unbooked rest in flight for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.execution._order_machine import (
    Announced,
    FillSeen,
    Refused,
    Step,
    announced,
    booked,
    filled,
    moved,
)
from perpsbot.actors.execution._order_states import TrackedOrder, fill_message
from perpsbot.messages import (
    BookedFill,
    OrderFilled,
    OrderStatus,
    OrderUpdated,
    Stamper,
    TransitionSource,
)
from perpsbot.venue.gateway import VenueFill

_log = logging.getLogger("perpsbot.actors.executor")

#: Finished orders kept in memory (to recognise a resent intent, and so that reconciliation's
#: sweep knows their fills without looking them up); older ones are forgotten, and the
#: journal recognises those (``IntentRecorded.previously_recorded``). Each is kept without
#: its intent and request (about 1.6 KiB instead of 2.4).
KEEP_FINISHED = 1000


class OrderLedger:
    """Orders by client order id.

    Args:
        publish: tells subscribers an ``OrderUpdated`` or ``OrderFilled``.
        stamper: stamps those messages.
        now_ns: wall-clock nanoseconds (a fill without a trade time is stamped with it).
        keep_finished: how many finished orders are kept (:data:`KEEP_FINISHED`); the oldest
            beyond are forgotten.
    """

    def __init__(
        self,
        *,
        publish: Callable[[Any], None],
        stamper: Stamper,
        now_ns: Callable[[], int],
        keep_finished: int = KEEP_FINISHED,
    ) -> None:
        if keep_finished < 0:
            raise ValueError(f"keep_finished must be a whole number >= 0, was {keep_finished}")
        self._keep_finished = keep_finished
        self._publish = publish
        self._stamper = stamper
        self._now_ns = now_ns
        self._orders: dict[str, TrackedOrder] = {}
        self._unfinished: dict[str, TrackedOrder] = {}
        self._by_venue_id: dict[str, str] = {}
        self.impossible = 0
        """Transitions refused as impossible (each left for reconciliation)."""
        self._published: dict[str, int] = {}  # OrderUpdated published per order

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def __iter__(self) -> Iterator[TrackedOrder]:
        return iter(list(self._orders.values()))

    def unfinished(self) -> list[TrackedOrder]:
        """The orders not yet settled (terminal and every fill booked): what the order path
        scans, without the finished orders kept for recognition."""
        return list(self._unfinished.values())

    def __getitem__(self, client_order_id: str) -> TrackedOrder:
        return self._orders[client_order_id]

    def get(self, client_order_id: str) -> TrackedOrder | None:
        return self._orders.get(client_order_id)

    def by_venue_id(self, venue_order_id: str) -> TrackedOrder | None:
        coid = self._by_venue_id.get(venue_order_id)
        return None if coid is None else self._orders.get(coid)

    def snapshot(self) -> dict[str, TrackedOrder]:
        return dict(self._orders)

    def hold(self, order: TrackedOrder) -> None:
        """Track ``order`` as it is, publishing nothing (it is already journaled, or is not
        yet: see :meth:`move`). A finished order is held without its intent and request:
        they serve sending it and its TTL only, and the journal keeps them."""
        coid = order.client_order_id
        if not order.settled or order.fills_behind:
            self._unfinished[coid] = order
        else:
            self._unfinished.pop(coid, None)
            if order.intent is not None or order.request is not None:
                order = attrs.evolve(order, intent=None, request=None)
        self._orders[coid] = order
        if order.venue_order_id is not None:
            self._by_venue_id[order.venue_order_id] = order.client_order_id

    def updates_published(self, client_order_id: str) -> int:
        """How many ``OrderUpdated`` this ledger published for the order."""
        return self._published.get(client_order_id, 0)

    def forget(self, client_order_id: str) -> None:
        order = self._orders.pop(client_order_id, None)
        self._unfinished.pop(client_order_id, None)
        self._published.pop(client_order_id, None)
        if order is not None and order.venue_order_id is not None:
            self._by_venue_id.pop(order.venue_order_id, None)

    def announce(
        self, client_order_id: str, source: TransitionSource, reason: str = "", **changes: Any
    ) -> None:
        """Publish a held order's current state as new (``previous`` None), with bookkeeping
        ``changes`` as :meth:`mark` makes them."""
        self._apply(announced(self._orders[client_order_id], source, reason, **changes))

    def move(
        self,
        client_order_id: str,
        status: OrderStatus,
        source: TransitionSource,
        reason: str = "",
        *,
        filled_size: Decimal | None = None,
        average_fill_price: Decimal | None = None,
        venue_order_id: str | None = None,
        **changes: Any,
    ) -> bool:
        """Move an order to ``status`` (and the venue's figures); publish it if anything
        changed. False if the state machine refused it (logged and counted). Bookkeeping
        ``changes`` (as :meth:`mark` makes them) are made either way."""
        order = self._orders[client_order_id]
        reopened = order.status.terminal and status is not order.status
        if source is TransitionSource.RECONCILIATION and reopened:
            _log.warning(
                "order %s: reconciliation moves it out of %s to %s (the venue's truth)",
                client_order_id, order.status, status,
            )  # fmt: skip
        applied = self._apply(
            moved(
                order, status, source, reason, filled_size=filled_size,
                average_fill_price=average_fill_price, venue_order_id=venue_order_id,
                **changes,
            )
        )  # fmt: skip
        if (
            applied
            and order.status is OrderStatus.PENDING_SUBMIT
            and status.terminal
            and client_order_id in self._orders
        ):
            self.mark(client_order_id, never_sent=True)
        return applied

    def book(self, fill: BookedFill) -> None:
        """The portfolio booked one of an order's fills; a terminal order whose fills are
        all booked now is published settled."""
        order = self._orders.get(fill.client_order_id)
        if order is not None:
            self._apply(booked(order, fill.size))

    def mark(self, client_order_id: str, **changes: Any) -> TrackedOrder:
        """Change bookkeeping fields that are no transition (``cancel_requested``, ``request``)."""
        order = attrs.evolve(self._orders[client_order_id], **changes)
        self.hold(order)
        return order

    def add_fills(self, client_order_id: str, fills: Iterable[VenueFill]) -> int:
        """Publish the fills of an order not published before; returns how many were new."""
        order, effects = filled(self._orders[client_order_id], fills)
        self._apply((order, effects))
        return len(effects)

    def _apply(self, step: Step) -> bool:
        """Hold the order a step left and carry out its effects; False if it was refused."""
        order, effects = step
        self.hold(order)
        for effect in effects:
            match effect:
                case Announced():
                    coid = effect.order.client_order_id
                    self._published[coid] = self._published.get(coid, 0) + 1
                    self._publish(self._updated(effect))
                case FillSeen():
                    self._publish(self._filled(effect))
                case Refused(order=was):
                    self.impossible += 1
                    _log.warning(
                        "order %s: impossible transition %s -> %s (filled %s -> %s) from %s;"
                        " kept as it was, reconciliation settles it",
                        was.client_order_id, was.status, effect.status, was.filled_size,
                        effect.filled_size, effect.source,
                    )  # fmt: skip
                    return False
        if order.settled and not order.fills_behind:
            self._forget_old()
        return True

    def _filled(self, seen: FillSeen) -> OrderFilled:
        return fill_message(
            seen.order, seen.fill, fill_id=seen.fill_id, stamper=self._stamper, now_ns=self._now_ns
        )

    def _updated(self, announced: Announced) -> OrderUpdated:
        order = announced.order
        message_id, ts = self._stamper.stamp()
        return OrderUpdated(
            message_id=message_id,
            ts_created_ns=ts,
            correlation_id=order.correlation_id,
            intent_id=order.intent_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            symbol=order.symbol,
            side=order.side,
            purpose=order.purpose,
            order_type=order.order_type,
            size=order.size,
            limit_price=order.limit_price,
            filled_size=order.filled_size,
            average_fill_price=order.average_fill_price,
            previous=announced.previous,
            status=order.status,
            source=announced.source,
            reason=announced.reason,
            booked_size=order.booked_size,
        )

    def _forget_old(self) -> None:
        keep = self._keep_finished
        if len(self._orders) - len(self._unfinished) <= keep:
            return
        finished = [
            o.client_order_id for o in self._orders.values() if o.settled and not o.fills_behind
        ]
        for coid in finished[: max(0, len(finished) - keep)]:
            self.forget(coid)
