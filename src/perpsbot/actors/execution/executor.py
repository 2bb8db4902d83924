"""ExecutorActor: owns the bot's orders, from the journaled intent to the last fill.

On ``PlaceOrder`` (from risk) it checks the trading state again, fits the intent to the
product, journals it (``RecordIntent``), and only once the journal answers
``IntentRecorded`` sends it, under a client order id derived from the intent, if the trading
state still allows it (else it waits for a state that does, within its TTL; an operator's
halt or the kill switch cancels it, a transient fail-closed HALTED does not). A lost answer
is settled by that id, never by a second order. Order updates come from the ``user``
websocket channel, or from REST polls while that feed is unhealthy; fills are
read from the venue's fill list, deduplicated by fill id, and published as ``OrderFilled``.
The user channel is the ``UserFeedActor``'s; it tells this actor what it sees.

At every start it reconciles with the venue before it places anything: the journal's
unfinished orders against the venue's orders, fills and positions. Then it reconciles its
in-flight orders and the positions every ``execution.reconcile_interval_s``.

An order is settled, and published terminal, only once the portfolio's ``PositionChanged``
says every filled unit is booked; until then its unbooked rest counts against the position
for exits. Positions are the portfolio's, as last told. From each ``AccountReconciled`` it
publishes until the portfolio's ``PortfolioValued`` answers it (its ``correlation_id``), the
positions it holds may be the ones that reconciliation corrects: a ``PlaceOrder`` waits
(checked once the answer came, or denied past its TTL) and nothing is sent.

REST calls block this actor's thread (never the feed's): its watchdog hang timeout must allow
for a reconciliation's calls.

Advanced Trade lists no funding payments for CFM futures: the funding the venue accrued on
each position travels in ``AccountReconciled`` (``VenuePosition.accrued_funding``), and the
portfolio books it from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from perpsbot.actors.execution._inspection import ExecutorState
from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._quantize import QuantizeRejection, fitted_order
from perpsbot.actors.execution._reconciler import Reconciler
from perpsbot.actors.execution._reduce_only import refusal
from perpsbot.config import BotConfig
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    CancelAllOrders,
    CancelOrder,
    IntentRecorded,
    OrderDenied,
    OrdersRead,
    OrderStatus,
    PlaceOrder,
    PollOrders,
    PortfolioValued,
    PositionChanged,
    Reconcile,
    RecordIntent,
    RefreshProducts,
    Stamper,
    SyncTimedOut,
    TradingState,
    TradingStateChanged,
    TransitionSource,
    UserFeedChanged,
    UserOrdersReceived,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    BaseActor,
    CommandMailbox,
)
from perpsbot.venue.gateway import GatewaySource

__all__ = ["ExecutorActor", "executor_mailbox"]

logger = logging.getLogger("perpsbot.actors.executor")


def executor_mailbox(max_pending_orders: int) -> CommandMailbox:
    """The executor's mailbox: at most ``max_pending_orders`` ``PlaceOrder`` wait (one more is
    refused to its sender with ``MailboxFullError``); the trading state, positions and cancels
    overtake them; order events and fills are never dropped."""
    return CommandMailbox(
        max_pending_orders,
        commands=[PlaceOrder],
        priority=[
            TradingStateChanged,
            PositionChanged,
            PortfolioValued,
            CancelAllOrders,
            CancelOrder,
        ],
    )


def _awaiting(order: TrackedOrder) -> str:
    """``awaiting fills: 0.5 of 1 booked``: a terminal order not settled yet (it counts as in
    flight until every filled unit is booked)."""
    booked, filled = order.booked_size.normalize(), order.filled_size.normalize()
    return f"awaiting fills: {booked:f} of {filled:f} booked"


class ExecutorActor(BaseActor):
    """Places, follows and reconciles orders.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        venue: the process's venue link: it hands out the venue gateway, the executor's only
            way to the venue.
        journal: the journal actor (``RecordIntent``, ``ReadOrders``).
        faults: tests only: called with the name of each crash point of the order path
            (``before_journal``, ``before_submit``, ``after_submit``); it may raise.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: GatewaySource,
        journal: ActorAddress,
        faults: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._settings = config.execution
        self._stamper = Stamper(context.clock, context.ids)
        self._faults = faults
        self._denials = 0
        self._desk = OrderDesk(
            link=venue,
            clock=context.clock,
            stamper=self._stamper,
            settings=self._settings,
            symbols=config.market_data.symbols,
            publish=self.publish,
            reconcile_soon=self._reconcile_soon,
            fault=self._fault,
        )
        self._reconciler = Reconciler(
            desk=self._desk,
            journal=journal,
            reply_to=context.address,
            timers=context.timers,
            clock=context.clock,
            stamper=self._stamper,
            soon_s=self._settings.order_poll_interval_s,
        )
        self._journal = journal
        self._held: list[PlaceOrder] = []  # waiting for the portfolio's answer (book_pending)

    # -- lifecycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        settings = self._settings
        self._desk.open()
        self.timers.every(settings.order_poll_interval_s, PollOrders())
        self.timers.every(settings.reconcile_interval_s, Reconcile())
        self.timers.every(settings.product_refresh_s, RefreshProducts())
        self._reconciler.begin("startup")

    def on_stop(self) -> None:
        self._desk.close()

    def on_failure(self, *_: Any) -> None:
        self._desk.close()

    def on_receive(self, message: Any) -> None:
        desk = self._desk
        match message:
            case PlaceOrder():
                self._on_place_order(message)
            case IntentRecorded():
                self._on_intent_recorded(message)
            case CancelOrder():
                desk.cancel_one(message.client_order_id, message.reason)
            case CancelAllOrders():
                desk.cancel_all(
                    message.reason, symbol=message.symbol, entries_only=message.entries_only
                )
            case TradingStateChanged():
                self._on_trading_state(message)
            case PositionChanged():
                self._on_position_changed(message)
            case PortfolioValued():
                self._on_portfolio_valued(message)
            case UserOrdersReceived():
                desk.user_orders(message, reconciled=self._reconciler.done)
            case UserFeedChanged():
                desk.user_feed_changed(message)
            case PollOrders():
                desk.poll()
                self._expire_unconfirmed()
                self._expire_held()
            case Reconcile():
                self._reconciler.due()
            case RefreshProducts():
                desk.refresh_products()
            case OrdersRead():
                self._reconciler.orders_read(message)
                if self._reconciler.done and desk.halted_for_good:
                    self._cancel_everything()
            case SyncTimedOut():
                self._reconciler.sync_timed_out(message)
            case _:
                self.unhandled(message)

    def snapshot_state(self) -> Any:
        # Orders are not handed over: the successor rebuilds them from the journal and the
        # venue, exactly as after a crash of the process.
        desk = self._desk
        return {
            "state": (desk.state, desk.state_reasons, desk.halted_for_good),
            "positions": dict(desk.positions),
            "held": list(self._held),
        }

    def restore_state(self, snapshot: Any) -> None:
        desk = self._desk
        desk.state, desk.state_reasons, desk.halted_for_good = snapshot["state"]
        self._desk.positions.update(snapshot["positions"])
        for held in snapshot["held"]:  # checked again, after the successor's reconciliation
            self.address.tell(held)

    def inspect_state(self) -> ExecutorState:
        desk, reconciler = self._desk, self._reconciler
        stats = desk.stats
        return ExecutorState(
            reconciled=reconciler.done,
            reconciliations=reconciler.passes,
            reconciliation_failures=reconciler.failures,
            swept_fills=reconciler.sweep.carried,
            sweep_lookups=reconciler.sweep.lookups,
            trading_state=desk.state,
            dry_run=self._settings.dry_run,
            user_feed_healthy=desk.feed_healthy,
            orders={o.client_order_id: o.status for o in desk.ledger},
            unsettled={
                o.client_order_id: _awaiting(o)
                for o in desk.ledger.unfinished()
                if o.status.terminal
            },
            positions=dict(desk.positions),
            book_pending=desk.book_pending,
            held_for_book=tuple(m.intent.intent_id for m in self._held),
            products=tuple(sorted(desk.products.specs)),
            impossible_transitions=desk.ledger.impossible,
            denials=self._denials,
            submitted=stats["submitted"],
            polls=stats["polls"],
            polls_skipped_feed_healthy=stats["polls_skipped_feed_healthy"],
            stale_updates=stats["stale_updates"],
            venue_errors=stats["venue_errors"],
            foreign_orders=stats["foreign_orders"],
            fills_streamed=stats["fills_streamed"],
        )

    # -- placing ---------------------------------------------------------------------------

    def _fault(self, point: str) -> None:
        if self._faults is not None:
            self._faults(point)

    def _deny(
        self, correlation_id: str, intent_id: str, symbol: str, rule: str, reason: str
    ) -> None:
        logger.warning("denied %s (%s): %s", intent_id, rule, reason)
        self._denials += 1
        message_id, ts = self._stamper.stamp()
        self.publish(
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

    def _on_place_order(self, message: PlaceOrder) -> None:
        intent, desk = message.intent, self._desk
        if desk.book_pending is not None:
            # Checked against positions the portfolio may be correcting right now: wait.
            self._held.append(message)
            return

        def deny(rule: str, reason: str) -> None:
            self._deny(message.message_id, intent.intent_id, intent.symbol, rule, reason)

        refused = refusal(
            state=desk.state,
            reasons=desk.state_reasons,
            reconciled=self._reconciler.done,
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
        now = self.clock.time_ns()
        if now > intent.valid_until_ns:
            late_ms = (now - intent.valid_until_ns) / 1e6
            deny("intent_expired", f"intent {intent.intent_id} expired {late_ms:.0f} ms ago")
            return
        self._fault("before_journal")
        message_id, ts = self._stamper.stamp()
        self._journal.tell(
            RecordIntent(
                message_id=message_id,
                ts_created_ns=ts,
                intent=intent,
                client_order_id=coid,
                reply_to=self.address,
            )
        )
        # Held, not published: PENDING_SUBMIT is announced once the journal has the intent.
        desk.ledger.hold(order)

    def _on_intent_recorded(self, message: IntentRecorded) -> None:
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
        late_ns = self.clock.time_ns() - order.intent.valid_until_ns
        if late_ns > 0:
            desk.ledger.move(
                coid, OrderStatus.EXPIRED, local,
                f"past its TTL by {late_ns / 1e6:.0f} ms once journaled: never sent",
            )  # fmt: skip
            return
        desk.send(coid, local)

    def _on_trading_state(self, message: TradingStateChanged) -> None:
        desk = self._desk
        was_halted_for_good = desk.halted_for_good
        desk.state, desk.state_reasons = message.state, message.reasons
        desk.halted_for_good = message.state is TradingState.HALTED and message.stops_everything
        if desk.halted_for_good and not was_halted_for_good and self._reconciler.done:
            self._cancel_everything()
        if message.state is not TradingState.HALTED and self._reconciler.done and desk.unsent():
            self._reconciler.soon()  # what waited for the state may go now (looked up first)

    def _cancel_everything(self) -> None:
        """An operator's halt or the kill switch stops everything of the bot's at the venue:
        every open order is cancelled, entries and exits. (Before the startup reconciliation
        the bot does not know what it left at the venue: it cancels once that is done.)"""
        desk = self._desk
        desk.cancel_all(f"trading halted: {'; '.join(desk.state_reasons)}")

    def _on_position_changed(self, message: PositionChanged) -> None:
        """The portfolio's position, and the fills it booked: an order whose fills are all
        booked is settled now."""
        self._desk.positions[message.position.symbol] = message.position.quantity
        for booked in message.booked:
            self._desk.ledger.book(booked)

    def _on_portfolio_valued(self, message: PortfolioValued) -> None:
        """The portfolio's answer to the last reconciliation (its corrected positions came
        first, as ``PositionChanged``): what waited for it is checked now."""
        desk = self._desk
        if desk.book_pending is None or message.correlation_id != desk.book_pending:
            return
        desk.book_pending = None
        held, self._held = self._held, []
        for place in held:
            self._on_place_order(place)
        if desk.unsent() and desk.state is not TradingState.HALTED:
            self._reconciler.soon()  # what waited to be sent may go now (looked up first)

    def _expire_held(self) -> None:
        """A ``PlaceOrder`` that waited for the portfolio's answer past its intent's TTL is
        denied: the strategy decides again."""
        now = self.clock.time_ns()
        expired = [m for m in self._held if now > m.intent.valid_until_ns]
        if not expired:
            return
        self._held = [m for m in self._held if now <= m.intent.valid_until_ns]
        for place in expired:
            intent = place.intent
            self._deny(
                place.message_id, intent.intent_id, intent.symbol, "reconciliation_pending",
                f"intent {intent.intent_id} expired while the portfolio had not answered the"
                " last reconciliation with its corrected positions",
            )  # fmt: skip

    def _reconcile_soon(self) -> None:
        self._reconciler.soon()

    def _expire_unconfirmed(self) -> None:
        """An order never sent ends EXPIRED once past its TTL, and the strategy may decide
        again: the journal never confirmed its ``RecordIntent`` (it refused or lost it), or the
        trading state never allowed sending it. (Before the startup reconciliation, the
        journal's unsent orders are its to settle.)"""
        if not self._reconciler.done:
            return
        now, ledger = self.clock.time_ns(), self._desk.ledger
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
