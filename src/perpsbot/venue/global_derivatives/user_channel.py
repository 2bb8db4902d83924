"""The trading socket's ``user.orders.*`` notifications as the executor's user-channel
messages (docs/venues/global-derivatives.md 1.9, 2.4).

What the Advanced Trade user channel tells the executor, this venue tells the same way:
``UserOrdersReceived`` with each order as a ``UserOrderReport`` in the gateway's status words
and sizes in contracts, and ``UserFeedChanged`` for the channel's health. The user channels
carry no sequence number, so a reconnect proves nothing was missed only after a
reconciliation: on every reconnect the channel turns unhealthy (the executor polls) and a
``Reconcile`` is told; the first order notification after it makes the channel healthy again.
Runs on the socket's threads and only tells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

from perpsbot.clock import Clock
from perpsbot.errors import FrameDecodeError, InvalidMessageError
from perpsbot.messages import Reconcile, UserFeedChanged, UserOrderReport, UserOrdersReceived
from perpsbot.venue.global_derivatives._codec import Notice
from perpsbot.venue.global_derivatives._translate import venue_order
from perpsbot.venue.global_derivatives.notices import decode_notice
from perpsbot.venue.global_derivatives.records import Order

__all__ = ["GlobalUserTranslator", "user_order_channels"]

_log = logging.getLogger("perpsbot.venue.global.user")


def user_order_channels(symbols: Mapping[str, Decimal]) -> list[str]:
    """The ``user.orders`` channels of these instruments (every change, ``raw``)."""
    return [f"user.orders.{symbol}.raw" for symbol in sorted(symbols)]


class GlobalUserTranslator:
    """The socket's callbacks (``on_notice``, ``on_connected``) for the executor.

    Args:
        tell: tells the executor a message (its address's ``tell``).
        clock: stamps receive times.
        contract_sizes: each followed instrument's contract size (orders of others are left
            out).
    """

    def __init__(
        self,
        *,
        tell: Callable[[object], None],
        clock: Clock,
        contract_sizes: Mapping[str, Decimal],
    ) -> None:
        self._tell = tell
        self._clock = clock
        self._sizes = dict(contract_sizes)
        self._healthy = False
        self.notices = 0
        self.orders_reported = 0
        self.bad_notices = 0

    @property
    def healthy(self) -> bool:
        return self._healthy

    def on_connected(self, reconnects: int) -> None:
        """A (re)connect is authenticated and resubscribed: after a reconnect, updates may
        have been missed, so the executor polls and reconciles."""
        if reconnects == 0:
            return
        self._healthy = False
        self._tell(UserFeedChanged(healthy=False, detail=f"reconnected ({reconnects})"))
        self._tell(Reconcile())

    def on_notice(self, notice: Notice) -> None:
        if not notice.channel.startswith("user.orders."):
            return
        try:
            decoded = decode_notice(notice)
        except FrameDecodeError as exc:
            self.bad_notices += 1
            _log.warning("user channel: a notification left out: %s", exc)
            return
        if not isinstance(decoded, list):
            return
        reports = tuple(r for o in decoded if isinstance(o, Order) if (r := self._report(o)))
        self.notices += 1
        if not self._healthy:
            self._healthy = True
            self._tell(UserFeedChanged(healthy=True, detail="user channel updates flow"))
        if reports:
            self.orders_reported += len(reports)
            self._tell(
                UserOrdersReceived(
                    orders=reports, snapshot=False, ts_received_ns=self._clock.time_ns()
                )
            )

    def _report(self, order: Order) -> UserOrderReport | None:
        size = self._sizes.get(order.instrument_name)
        if size is None:
            return None
        try:
            seen = venue_order(order, size)
            return UserOrderReport(
                venue_order_id=seen.venue_order_id,
                client_order_id=seen.client_order_id,
                status=seen.status,
                filled_size=seen.filled_size,
                average_price=seen.average_price,
            )
        except (InvalidMessageError, ValueError) as exc:
            self.bad_notices += 1
            _log.warning("user channel: order %s left out: %s", order.order_id, exc)
            return None
