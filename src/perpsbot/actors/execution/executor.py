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

The actor handles its messages and holds the trading state and positions as told; its work
is its helpers': placing (``_placement``), sending and following (``_order_desk``,
``_order_follow``), the user channel's view (``_user_channel_view``) and reconciliation
(``_reconciler``, ``_reconcile_pass``).

Advanced Trade lists no funding payments for CFM futures: the funding the venue accrued on
each position travels in ``AccountReconciled`` (``VenuePosition.accrued_funding``), and the
portfolio books it from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from perpsbot.actors.execution._inspection import ExecutorState
from perpsbot.actors.execution._ledger import KEEP_FINISHED
from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._placement import OrderPlacement
from perpsbot.actors.execution._reconciler import Reconciler
from perpsbot.actors.execution._user_channel_view import UserChannelView
from perpsbot.config import BotConfig
from perpsbot.messages import (
    CancelAllOrders,
    CancelOrder,
    IntentRecorded,
    JournalSynced,
    OrdersRead,
    PlaceOrder,
    PollOrders,
    PortfolioValued,
    PositionChanged,
    Reconcile,
    RefreshProducts,
    Stamper,
    SyncJournal,
    SyncTimedOut,
    TradingState,
    TradingStateChanged,
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
        keep_finished: how many finished orders it keeps in memory, the oldest beyond
            forgotten (the journal still knows them); tests lower it.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: GatewaySource,
        journal: ActorAddress,
        faults: Callable[[str], None] | None = None,
        keep_finished: int = KEEP_FINISHED,
    ) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._settings = config.execution
        self._stamper = Stamper(context.clock, context.ids)
        self._faults = faults
        self._desk = OrderDesk(
            link=venue,
            clock=context.clock,
            stamper=self._stamper,
            settings=self._settings,
            symbols=config.market_data.symbols,
            publish=self.publish,
            reconcile_soon=self._reconcile_soon,
            fault=self._fault,
            sync_journal=self._sync_journal,
            keep_finished=keep_finished,
        )
        self._journal = journal
        self._reconciler = Reconciler(
            desk=self._desk,
            journal=journal,
            reply_to=context.address,
            timers=context.timers,
            clock=context.clock,
            stamper=self._stamper,
            soon_s=self._settings.order_poll_interval_s,
        )
        self._placement = OrderPlacement(
            desk=self._desk,
            journal=journal,
            reply_to=context.address,
            clock=context.clock,
            stamper=self._stamper,
            reconciled=lambda: self._reconciler.done,
            fault=self._fault,
        )
        self._channel = UserChannelView(
            desk=self._desk, reconcile_now=lambda: self.address.tell(Reconcile())
        )

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
                self._placement.place(message)
            case IntentRecorded():
                self._placement.intent_recorded(message)
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
                self._channel.user_orders(message, reconciled=self._reconciler.done)
            case UserFeedChanged():
                self._channel.user_feed_changed(message)
            case PollOrders():
                self._channel.poll()
                self._placement.expire_unconfirmed()
                self._placement.expire_held()
                desk.expire_unwritten()
            case Reconcile():
                self._reconciler.due()
            case RefreshProducts():
                desk.refresh_products()
            case OrdersRead():
                self._reconciler.orders_read(message)
                if self._reconciler.done and desk.halted_for_good:
                    self._cancel_everything()
            case JournalSynced():
                desk.journal_synced(message)
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
            "held": list(self._placement.held),
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
            user_feed_healthy=self._channel.healthy,
            orders={o.client_order_id: o.status for o in desk.ledger},
            unsettled={
                o.client_order_id: _awaiting(o)
                for o in desk.ledger.unfinished()
                if o.status.terminal
            },
            positions=dict(desk.positions),
            book_pending=desk.book_pending,
            held_for_book=tuple(m.intent.intent_id for m in self._placement.held),
            products=tuple(sorted(desk.products.specs)),
            impossible_transitions=desk.ledger.impossible,
            denials=self._placement.denials,
            submitted=stats["submitted"],
            polls=stats["polls"],
            polls_skipped_feed_healthy=stats["polls_skipped_feed_healthy"],
            stale_updates=stats["stale_updates"],
            venue_errors=stats["venue_errors"],
            foreign_orders=stats["foreign_orders"] + reconciler.sweep.foreign,
            fills_streamed=stats["fills_streamed"],
        )

    # -- placing ---------------------------------------------------------------------------

    def _sync_journal(self) -> str:
        message_id, ts = self._stamper.stamp()
        self._journal.tell(
            SyncJournal(message_id=message_id, ts_created_ns=ts, reply_to=self.address)
        )
        return message_id

    def _fault(self, point: str) -> None:
        if self._faults is not None:
            self._faults(point)

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
        desk.book_answered()
        self._placement.release_held()
        if desk.unsent() and desk.state is not TradingState.HALTED:
            self._reconciler.soon()  # what waited to be sent may go now (looked up first)

    def _reconcile_soon(self) -> None:
        self._reconciler.soon()
