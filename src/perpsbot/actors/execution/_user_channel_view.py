"""The executor's view of the venue's user channel: its health, and what it reports.

The channel itself is the :class:`~perpsbot.actors.execution.user_feed.UserFeedActor`'s; its
threads tell the executor ``UserOrdersReceived`` and ``UserFeedChanged``, which land here.
While the channel is unhealthy the executor polls its in-flight orders; once it is healthy
again after a gap, what it missed meanwhile is read once: the orders in flight, and on a
venue whose channel restates nothing as it subscribes (``restates_open_orders`` False), a
reconciliation. A new incarnation of the user-feed actor first tells the executor the
channel is down (its predecessor's connection is gone), so a restart of that actor alone is
a gap like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.ids import is_our_client_order_id
from perpsbot.messages import TransitionSource, UserFeedChanged, UserFillReport, UserOrdersReceived
from perpsbot.venue.gateway import VenueFill

logger = logging.getLogger("perpsbot.actors.executor")


class UserChannelView:
    """What the executor knows of the user channel (see the module docstring).

    Args:
        desk: follows the orders the channel reports.
        reconcile_now: asks for a reconciliation at once (tells the executor ``Reconcile``).
    """

    def __init__(self, *, desk: OrderDesk, reconcile_now: Callable[[], None]) -> None:
        self._desk = desk
        self._reconcile_now = reconcile_now
        self.healthy = False
        self._gap = False  # healthy once, then down: updates may have been missed

    def user_orders(self, message: UserOrdersReceived, reconciled: bool) -> None:
        """Apply what the channel reports of our orders (``reconciled``: the startup
        reconciliation is done, so an order of ours the ledger does not hold is adopted)."""
        desk, ledger = self._desk, self._desk.ledger
        unique_ids = desk.gateway.deduplicates_client_ids
        for update in message.orders:
            order = ledger.by_venue_id(update.venue_order_id)
            if order is None and unique_ids:
                order = ledger.get(update.client_order_id)
            elif order is None and update.client_order_id in ledger:
                # Others may carry our client order id here: only the reconciliation's lookup
                # (what we asked for) tells whether an order whose answer we lack is this one.
                desk.reconcile_soon()
                continue
            if order is None:
                label = update.client_order_id
                if (
                    reconciled
                    and is_our_client_order_id(label)
                    and (
                        unique_ids  # else anyone's: never adopted
                        or desk.issued.claims(label, update.venue_order_id)
                    )
                ):
                    desk.reconcile_soon()  # one of ours we do not hold: adopt it
                continue
            desk.apply_venue(
                order.client_order_id,
                status=update.status,
                filled=update.filled_size,
                average_price=update.average_price,
                venue_order_id=update.venue_order_id,
                source=TransitionSource.USER_CHANNEL,
                read_fills=not message.fills_follow,
            )
        by_order: dict[str, list[VenueFill]] = {}
        for fill in message.fills:
            by_order.setdefault(fill.venue_order_id, []).append(_venue_fill(fill))
        for venue_id, fills in by_order.items():
            # By venue id only: a fill of another order carrying our client order id is not
            # ours; one of an order whose answer is still on its way is read with it.
            held = ledger.by_venue_id(venue_id)
            if held is not None:
                desk.stats["fills_streamed"] += ledger.add_fills(held.client_order_id, fills)

    def user_feed_changed(self, message: UserFeedChanged) -> None:
        """The channel became healthy or unhealthy."""
        was, self.healthy = self.healthy, message.healthy
        if message.healthy != was:
            log = logger.info if message.healthy else logger.warning
            log(
                "user channel %s: %s", "healthy" if message.healthy else "unhealthy", message.detail
            )
        if was and not message.healthy:
            self._gap = True
            self.poll()  # at once: updates may have been missed
        elif message.healthy and not was:
            # The subscription's snapshot restates only the open orders: an order that
            # filled or ended while nothing was subscribed is read once, here; from now on
            # the channel reports every change.
            self.poll(missed=True)
            if self._gap and not message.restates_open_orders:
                # Nothing restated: only a reconciliation shows what the gap held (an order
                # whose answer was lost, one of ours to adopt, the fills of either).
                self._reconcile_now()
            self._gap = False

    def poll(self, *, missed: bool = False) -> None:
        """Poll in-flight orders while the user channel is unhealthy (or, ``missed``, once
        as it becomes healthy); read the fills that lag behind the venue's filled size in
        any case."""
        desk = self._desk
        in_flight = [
            o
            for o in self._desk.ledger.unfinished()
            if o.in_flight and o.venue_order_id is not None
        ]
        if self.healthy and not missed:
            if in_flight:
                desk.stats["polls_skipped_feed_healthy"] += 1
        elif in_flight:
            desk.stats["polls"] += 1
            for order in in_flight:
                desk.refresh_order(order.client_order_id, TransitionSource.POLL)
        desk.catch_up_fills()


def _venue_fill(fill: UserFillReport) -> VenueFill:
    return VenueFill(
        fill_id=fill.fill_id, venue_order_id=fill.venue_order_id, side=fill.side,
        price=fill.price, size=fill.size, fee=fill.fee, liquidity=fill.liquidity,
        ts_ns=fill.ts_ns,
    )  # fmt: skip
