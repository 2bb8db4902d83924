"""What risk tells about orders: an intent the rules passed becomes ``PlaceOrder`` to the
executor, one they denied an ``OrderDenied`` to the subscribers; the daily loss limit cancels
open entry orders, an operator's halt and the kill switch every open order.

The executor's mailbox bounds waiting orders and refuses one more synchronously
(``MailboxFullError``): that intent is denied too (rule ``executor_backlog``), never queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from perpsbot.actors.risk._check import Denial, OrderCheck, usd
from perpsbot.messages import CancelAllOrders, OrderDenied, OrderIntent, PlaceOrder, Stamper
from perpsbot.runtime import ActorAddress, MailboxFullError

logger = logging.getLogger("perpsbot.actors.risk")

EXECUTOR_BACKLOG = "executor_backlog"


class OrderGate:
    """Sends allowed intents to ``executor`` and publishes denials with ``publish``."""

    def __init__(
        self, executor: ActorAddress, publish: Callable[[Any], None], stamper: Stamper
    ) -> None:
        self._executor = executor
        self._publish = publish
        self._stamper = stamper

    def allow(self, order: OrderCheck) -> bool:
        """Tell the executor ``PlaceOrder``; False (and a denial) if its mailbox is full."""
        intent = order.intent
        message_id, ts_created_ns = self._stamper.stamp()
        place = PlaceOrder(
            message_id=message_id,
            ts_created_ns=ts_created_ns,
            correlation_id=intent.message_id,
            intent=intent,
            checked_mark=order.price,
        )
        try:
            self._executor.tell(place)
        except MailboxFullError as error:
            self.deny(intent, Denial(rule=EXECUTOR_BACKLOG, reason=f"{error}; not queued"))
            return False
        if not logger.isEnabledFor(logging.INFO):
            return True  # the notional below is worked out for the log line only
        logger.info(
            "%s allowed: %s %s %s at %s (notional %s USD)",
            intent.intent_id,
            intent.side,
            intent.size,
            intent.symbol,
            order.price,
            usd(order.order_notional),
        )
        return True

    def deny(self, intent: OrderIntent, denial: Denial) -> None:
        logger.warning("%s denied by %s: %s", intent.intent_id, denial.rule, denial.reason)
        message_id, ts_created_ns = self._stamper.stamp()
        self._publish(
            OrderDenied(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                correlation_id=intent.message_id,
                intent_id=intent.intent_id,
                symbol=intent.symbol,
                rule=denial.rule,
                reason=denial.reason,
            )
        )

    def cancel_entries(self, reason: str) -> None:
        """Tell the executor to cancel every open entry order (exits keep working)."""
        message_id, ts_created_ns = self._stamper.stamp()
        self._executor.tell(
            CancelAllOrders(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                reason=reason,
                entries_only=True,
            )
        )
