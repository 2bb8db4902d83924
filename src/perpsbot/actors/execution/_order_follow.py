"""What the venue says of the executor's orders, applied to its ledger.

Every venue observation (a gateway answer, a user-channel update, a poll, a reconciliation)
goes through :meth:`OrderFollowing.apply_venue`, which reads the new fills first and publishes
them before the order's new state, so a journaled status always has its fills journaled
before it. The :class:`~perpsbot.actors.execution._order_desk.OrderDesk` builds on it: what
goes out (submits, cancels) is the desk's, what comes back is this module's.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from perpsbot.actors.execution._ledger import KEEP_FINISHED, OrderLedger
from perpsbot.actors.execution._order_states import venue_state
from perpsbot.clock import Clock
from perpsbot.errors import VenueError
from perpsbot.messages import OrderStatus, Stamper, TransitionSource
from perpsbot.venue.gateway import GatewaySource, VenueGateway, VenueOrder

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
_REST = TransitionSource.REST


class OrderFollowing(abc.ABC):
    """Follows the executor's orders at the venue (see the module docstring).

    Args:
        link: hands out the venue gateway (the process's venue link).
        clock: time.
        stamper: stamps published messages.
        publish: tells the executor's subscribers.
        reconcile_soon: asks for an in-flight reconciliation shortly (the executor's timer).
        keep_finished: how many finished orders the ledger keeps (:class:`OrderLedger`).
    """

    def __init__(
        self,
        *,
        link: GatewaySource,
        clock: Clock,
        stamper: Stamper,
        publish: Callable[[Any], None],
        reconcile_soon: Callable[[], None],
        keep_finished: int = KEEP_FINISHED,
    ) -> None:
        self._link = link
        self._clock = clock
        self._stamper = stamper
        self._publish_out = publish
        self.reconcile_soon = reconcile_soon
        self.ledger = OrderLedger(
            publish=self.publish, stamper=stamper, now_ns=clock.time_ns,
            keep_finished=keep_finished,
        )  # fmt: skip
        self._gateway: VenueGateway | None = None
        self.stats = {
            "submitted": 0, "polls": 0, "polls_skipped_feed_healthy": 0,
            "stale_updates": 0, "venue_errors": 0, "foreign_orders": 0, "fills_streamed": 0,
        }  # fmt: skip

    def open(self) -> None:
        self._gateway = self._link.gateway()

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()

    @property
    def gateway(self) -> VenueGateway:
        if self._gateway is None:
            raise RuntimeError("the executor's venue gateway is used before on_start opened it")
        return self._gateway

    def publish(self, message: Any) -> None:
        self._publish_out(message)

    @abc.abstractmethod
    def _cancel_if_requested(self, coid: str) -> None:
        """Cancel ``coid`` now if a cancel was asked for before the venue could take it."""

    def apply_venue(
        self,
        coid: str,
        *,
        status: str,
        filled: Decimal,
        average_price: Decimal | None,
        venue_order_id: str | None,
        source: TransitionSource,
        cancel_failed: bool = False,
        read_fills: bool = True,
    ) -> None:
        """What the venue says of an order: its new fills first (read now unless
        ``read_fills`` is False: they are on their way), then its new state."""
        order = self.ledger.get(coid)
        new = venue_state(status, filled)
        if order is None or new is None:
            return
        if None not in (venue_order_id, order.venue_order_id) and (
            venue_order_id != order.venue_order_id
        ):
            # Another order carrying our client order id (a venue that does not
            # deduplicate them): never ours, nor its fills.
            self.stats["foreign_orders"] += 1
            logger.warning(
                "order %s carries %s's client order id but is not %s: left alone",
                venue_order_id, coid, order.venue_order_id,
            )  # fmt: skip
            return
        reconciling = source is TransitionSource.RECONCILIATION
        if filled < order.filled_size and not reconciling:
            self.stats["stale_updates"] += 1  # an older restatement, overtaken already
            return
        if (
            order.status is _S.CANCEL_PENDING
            and new in (_S.ACKNOWLEDGED, _S.PARTIALLY_FILLED)
            and not (cancel_failed or reconciling)
        ):
            new = _S.CANCEL_PENDING  # our cancel is on its way; the venue is behind
        venue_id = venue_order_id or order.venue_order_id
        if read_fills and venue_id is not None and filled > order.fills_size:
            self.fetch_fills(coid, venue_id)
        moved = self.ledger.move(
            coid, new, source, filled_size=filled, average_fill_price=average_price,
            venue_order_id=venue_id,
        )  # fmt: skip
        if not moved:
            self.reconcile_soon()
        if not cancel_failed:  # a refused cancel is tried again on the next observation
            self._cancel_if_requested(coid)

    def fetch_fills(self, coid: str, venue_order_id: str) -> None:
        try:
            fills = self.gateway.fills([venue_order_id])
        except VenueError as exc:
            self._venue_error(f"reading the fills of {coid}", exc)  # read again next poll
            return
        self.ledger.add_fills(coid, fills)

    def refresh_order(
        self, coid: str, source: TransitionSource, *, cancel_failed: bool = False
    ) -> None:
        order = self.ledger.get(coid)
        if order is None or order.venue_order_id is None:
            return
        try:
            found = self.gateway.get_order(order.venue_order_id)
        except VenueError as exc:
            # Not visible yet (a 404 right after creation) or a transient failure: the
            # in-flight reconciliation looks again.
            self._venue_error(f"reading order {coid}", exc)
            self.reconcile_soon()
            return
        self.apply_order(coid, found, source, cancel_failed=cancel_failed)

    def apply_order(
        self,
        coid: str,
        found: VenueOrder,
        source: TransitionSource,
        *,
        cancel_failed: bool = False,
    ) -> None:
        """:meth:`apply_venue` for an order as the gateway reads it."""
        self.apply_venue(
            coid,
            status=found.status,
            filled=found.filled_size,
            average_price=found.average_price,
            venue_order_id=found.venue_order_id,
            source=source,
            cancel_failed=cancel_failed,
        )

    def catch_up_fills(self) -> set[str]:
        """Read the fills that lag behind the venue's filled sizes; returns the symbols whose
        fills still lag (the venue does not list them yet, or reading them failed)."""
        for order in self.ledger.unfinished():
            if order.fills_behind and order.venue_order_id is not None:
                self.fetch_fills(order.client_order_id, order.venue_order_id)
        return {order.symbol for order in self.ledger.unfinished() if order.fills_behind}

    def _venue_error(self, doing: str, exc: VenueError) -> None:
        self.stats["venue_errors"] += 1
        logger.warning("%s failed: %s: %s", doing, type(exc).__name__, exc)
