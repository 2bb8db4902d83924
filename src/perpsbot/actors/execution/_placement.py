"""How the executor places an order: checked, fitted, journaled, then sent.

On ``PlaceOrder`` (from risk) the order is checked against the trading state again, fitted
to the product, journaled (``RecordIntent``), and only once the journal answers
``IntentRecorded`` sent, under a client order id derived from the intent, if the trading
state still allows it (else it waits for a state that does, within its TTL). While the
portfolio has not answered the last ``AccountReconciled`` a ``PlaceOrder`` is held (checked
once the answer came, or denied past its TTL). An order never sent ends EXPIRED past its TTL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._quantize import QuantizeRejection, fitted_order
from perpsbot.actors.execution._reduce_only import refusal
from perpsbot.clock import Clock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    IntentRecorded,
    OrderDenied,
    OrderStatus,
    PlaceOrder,
    RecordIntent,
    Stamper,
    TransitionSource,
)
from perpsbot.runtime import ActorAddress

logger = logging.getLogger("perpsbot.actors.executor")


class OrderPlacement:
    """Places the executor's orders (see the module docstring).

    Args:
        desk: sends the orders and holds them.
        journal: the journal actor (``RecordIntent``).
        reply_to: the executor (``IntentRecorded``).
        clock: time (intent TTLs).
        stamper: stamps published messages.
        reconciled: whether the startup reconciliation is done (nothing is placed before).
        fault: the executor's crash-point hook (tests).
    """

    def __init__(
        self,
        *,
        desk: OrderDesk,
        journal: ActorAddress,
        reply_to: ActorAddress,
        clock: Clock,
        stamper: Stamper,
        reconciled: Callable[[], bool],
        fault: Callable[[str], None],
    ) -> None:
        self._desk = desk
        self._journal = journal
        self._reply_to = reply_to
        self._clock = clock
        self._stamper = stamper
        self._reconciled = reconciled
        self._desk_fault = fault
        self.held: list[PlaceOrder] = []
        """Waiting for the portfolio's answer to the last reconciliation (``book_pending``)."""
        self.denials = 0

    def release_held(self) -> None:
        """The portfolio answered the last reconciliation: check what waited for it."""
        held, self.held = self.held, []
        for place in held:
            self.place(place)

    def _deny(
        self, correlation_id: str, intent_id: str, symbol: str, rule: str, reason: str
    ) -> None:
        logger.warning("denied %s (%s): %s", intent_id, rule, reason)
        self.denials += 1
        message_id, ts = self._stamper.stamp()
        self._desk.publish(
            OrderDenied(
                message_id=message_id,
                ts_created_ns=ts,
                correlation_id=correlation_id,
                intent_id=intent_id,
                symbol=symbol,
                rule=rule,
                reason=reason,
                denied_by="executor",
            )
        )

    def place(self, message: PlaceOrder) -> None:
        intent, desk = message.intent, self._desk
        if desk.book_pending is not None:
            # Checked against positions the portfolio may be correcting right now: wait.
            self.held.append(message)
            return

        def deny(rule: str, reason: str) -> None:
            self._deny(message.message_id, intent.intent_id, intent.symbol, rule, reason)

        refused = refusal(
            state=desk.state,
            reasons=desk.state_reasons,
            reconciled=self._reconciled(),
            symbol=intent.symbol,
            side=intent.side,
            size=intent.size,
            purpose=intent.purpose,
            position=desk.position(intent.symbol),
            reducing_in_flight=desk.reducing_in_flight(intent.symbol, intent.side),
        )
        if refused is not None:
            deny(refused.rule, refused.reason)
            return
        coid = client_order_id(intent.intent_id)
        known = desk.ledger.get(coid)
        if known is not None:
            deny(
                "duplicate_intent",
                f"intent {intent.intent_id} is order {coid} already ({known.status.value})",
            )
            return
        spec = desk.products.get(intent.symbol)
        if spec is None:
            deny("product_unknown", f"{intent.symbol} is not among the venue's products")
            return
        order = fitted_order(intent, coid, spec, message.checked_mark)
        if isinstance(order, QuantizeRejection):
            deny(order.rule, order.reason)
            return
        now = self._clock.time_ns()
        if now > intent.valid_until_ns:
            late_ms = (now - intent.valid_until_ns) / 1e6
            deny("intent_expired", f"intent {intent.intent_id} expired {late_ms:.0f} ms ago")
            return
        self._desk_fault("before_journal")
        message_id, ts = self._stamper.stamp()
        self._journal.tell(
            RecordIntent(
                message_id=message_id,
                ts_created_ns=ts,
                intent=intent,
                client_order_id=coid,
                reply_to=self._reply_to,
            )
        )
        # Held, not published: PENDING_SUBMIT is announced once the journal has the intent.
        desk.ledger.hold(order)

    def intent_recorded(self, message: IntentRecorded) -> None:
        desk = self._desk
        coid = message.client_order_id
        order = desk.ledger.get(coid)
        if order is None or order.intent is None or order.status is not OrderStatus.PENDING_SUBMIT:
            # Recorded for an earlier incarnation: the startup reconciliation handles it.
            logger.debug("IntentRecorded for %s, which is not waiting for it", coid)
            return
        if message.previously_recorded:
            desk.ledger.forget(coid)
            self._deny(
                order.correlation_id, order.intent_id, order.symbol, "duplicate_intent",
                f"intent {order.intent_id} was journaled before (order {coid}): not sent again",
            )  # fmt: skip
            return
        local = TransitionSource.LOCAL
        # PENDING_SUBMIT and SUBMITTED go out before the call: risk and the strategy count an
        # order in flight past its TTL only once they heard it reached the executor (the call
        # may outlast the TTL), and an order killed mid-call must be journaled SUBMITTED, so
        # that the next start looks for it as sent.
        desk.ledger.announce(coid, local, "journaled", journaled=True)
        late_ns = self._clock.time_ns() - order.intent.valid_until_ns
        if late_ns > 0:
            desk.ledger.move(
                coid, OrderStatus.EXPIRED, local,
                f"past its TTL by {late_ns / 1e6:.0f} ms once journaled: never sent",
            )  # fmt: skip
            return
        desk.send(coid, local)

    def expire_held(self) -> None:
        """A ``PlaceOrder`` that waited for the portfolio's answer past its intent's TTL is
        denied: the strategy decides again."""
        now = self._clock.time_ns()
        expired = [m for m in self.held if now > m.intent.valid_until_ns]
        if not expired:
            return
        self.held = [m for m in self.held if now <= m.intent.valid_until_ns]
        for place in expired:
            intent = place.intent
            self._deny(
                place.message_id, intent.intent_id, intent.symbol, "reconciliation_pending",
                f"intent {intent.intent_id} expired while the portfolio had not answered the"
                " last reconciliation with its corrected positions",
            )  # fmt: skip

    def expire_unconfirmed(self) -> None:
        """An order never sent ends EXPIRED once past its TTL, and the strategy may decide
        again: the journal never confirmed its ``RecordIntent`` (it refused or lost it), or the
        trading state never allowed sending it. (Before the startup reconciliation, the
        journal's unsent orders are its to settle.)"""
        if not self._reconciled():
            return
        now, ledger = self._clock.time_ns(), self._desk.ledger
        for order in ledger.unfinished():
            intent = order.intent
            if (
                order.status is OrderStatus.PENDING_SUBMIT
                and intent
                and now > intent.valid_until_ns
                and not order.restored  # it may have been sent: reconciliation settles it
            ):
                why = (
                    "trading did not allow sending it"
                    if order.journaled
                    else "the journal did not confirm the intent"
                )
                ledger.move(
                    order.client_order_id, OrderStatus.EXPIRED, TransitionSource.LOCAL,
                    f"{why} within its TTL: never sent",
                )  # fmt: skip
