"""RiskActor: the gate every order passes; the trading state, limits, mark freshness.

Each ``OrderIntent`` is checked by the rules of ``_rules`` at the latest mark (or its
limit, if worse) and becomes ``PlaceOrder`` to the executor or an ``OrderDenied`` naming the
rule and the numbers. The trading state is the most severe of its holds (``_trading_state``):
an operator's latched Halt / ReduceOnly (read back from the journal at start),
``risk.kill_switch`` / ``risk.reduce_only``, the volatility breaker's trip, and the automatic
conditions that fail closed to REDUCING. An operator's Halt and the kill switch stop
everything: told so (``TradingStateChanged.stops_everything``), the executor cancels every
open order. Positions, equity and PnL are a read-only copy of the
portfolio's (``PositionChanged``, ``PortfolioValued``); orders in flight count by their
unbooked rest until the executor reports them settled. One ``RiskSnapshot`` per sampling
cycle, once the portfolio valued it, and one to the journal as it stops; everything survives
the actor's restarts (warm restart).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.risk._accounts import Accounts
from perpsbot.actors.risk._check import first_denial
from perpsbot.actors.risk._gate import OrderGate
from perpsbot.actors.risk._inspection import RiskState
from perpsbot.actors.risk._journal import (
    ACTIONS,
    OperatorCommand,
    OperatorJournal,
)
from perpsbot.actors.risk._rules import order_rules
from perpsbot.actors.risk._trading_state import JOURNAL, STARTING, TradingConditions
from perpsbot.config import BotConfig
from perpsbot.messages import (
    AccountReconciled,
    CheckRisk,
    DryRunOrder,
    FeedState,
    FeedStatusChanged,
    Halt,
    MarksSampled,
    OperatorStateRead,
    OrderDenied,
    OrderIntent,
    OrderUpdated,
    PortfolioValued,
    PositionChanged,
    ProductsLoaded,
    ReconciliationCompleted,
    ReconciliationStarted,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Stamper,
    TradingState,
    TradingStateChanged,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ActorDown,
    ActorUp,
    BaseActor,
    ConfigChanged,
    FifoMailbox,
)

__all__ = ["STARTING", "OperatorCommand", "RiskActor", "risk_mailbox"]

logger = logging.getLogger("perpsbot.actors.risk")


def risk_mailbox() -> FifoMailbox:
    """Risk's mailbox: the operator's commands overtake queued intents and samples."""
    return FifoMailbox(priority=[Halt, ReduceOnly, Resume])


class RiskActor(BaseActor):
    """Checks every intent; owns the trading state.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        executor: where allowed intents go as ``PlaceOrder`` (and ``CancelAllOrders`` of the
            entries when the daily loss limit trips).
        journal: asked for the operator's last command at a cold start
            (``ReadOperatorState``; trading stays HALTED until it answered, or an operator
            resumes), then told the operator's commands and their audit (``OperatorActed``);
            None runs without persistence.
        watch: actor paths whose restarts hold trading at REDUCING until they are up.
        check_interval_s: how often mark ages and the UTC day are re-checked without samples.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        executor: ActorAddress,
        journal: ActorAddress | None = None,
        watch: Iterable[str] = (),
        check_interval_s: float = 1.0,
    ) -> None:
        super().__init__(context=context)
        self._watched = tuple(watch)
        self._check_interval_s = check_interval_s
        self._stamper = Stamper(context.clock, context.ids)
        self._gate = OrderGate(executor, self.publish, self._stamper)
        self._journal = OperatorJournal(journal, self._stamper)
        self._config: BotConfig = context.config
        self._rules = order_rules(self._config.risk)
        self._conditions = TradingConditions(
            self._config,
            watched=self._watched,
            journal_pending=self._journal.restores,
            book_pending=True,
        )
        self._accounts = Accounts()
        self._feed: FeedState | None = None
        self._published: tuple[TradingState, frozenset[str]] | None = None
        self._operator_acted = False
        # The last AccountReconciled until the portfolio's valuation holds it, and the
        # successful ReconciliationCompleted that waits for that.
        self._book_behind: str | None = None
        self._completed: ReconciliationCompleted | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        system = self.context.system
        for path in self._watched:
            system.watch(path, self.address)
        self._journal.request(self.address)
        self._check_marks()
        self._publish_state("risk started", force=True)
        self.timers.every(self._check_interval_s, CheckRisk())

    def on_stop(self) -> None:
        """Journal the day's figures as they are at the stop (risk stops before the journal),
        so the next start's day continues from them, not from the last periodic snapshot."""
        if self._accounts.valued is not None:
            self._journal.record(self._snapshot(self._accounts.valued, at_stop=True))

    def on_receive(self, message: Any) -> Any:
        match message:
            case OrderIntent():
                self._on_intent(message)
            case MarksSampled():
                self._on_marks_sampled(message)
            case PositionChanged():
                self._accounts.position_changed(message)
            case PortfolioValued():
                self._on_portfolio_valued(message)
            case OrderUpdated():
                self._accounts.open.update(message)
            case OrderDenied() | DryRunOrder():
                self._accounts.open.remove(message.intent_id)
            case AccountReconciled():
                self._accounts.futures_account(message)
                self._book_behind = message.message_id
            case ProductsLoaded():
                self._accounts.products = {p.symbol: p for p in message.products}
            case ReconciliationStarted():
                self._on_reconciliation_started(message)
            case ReconciliationCompleted():
                self._on_reconciliation_completed(message)
            case ActorDown() | ActorUp():
                self._on_watched(message)
            case FeedStatusChanged():
                self._feed = message.state
            case Halt() | ReduceOnly() | Resume():
                return self._on_operator(message)
            case OperatorStateRead():
                self._on_operator_state_read(message)
            case CheckRisk():
                self._on_check()
            case _:
                self.unhandled(message)
        return None

    def on_config_changed(self, message: ConfigChanged) -> None:
        self._config = message.config
        self._rules = order_rules(self._config.risk)
        self._conditions.configure(self._config)
        self._check_marks()
        self._publish_state("configuration changed")

    # -- state across restarts and for inspection ------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {
            "conditions": self._conditions.snapshot(),
            "accounts": self._accounts.snapshot(),
            "published": self._published,
            "book_behind": (self._book_behind, self._completed),
        }

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._conditions.restore(snapshot["conditions"], self._config)
        self._accounts.restore(snapshot["accounts"])
        self._published = snapshot["published"]
        self._book_behind, self._completed = snapshot["book_behind"]
        if not self._conditions.holds.holds(JOURNAL):
            self._journal.skip_restore()  # the predecessor read the journal already

    def inspect_state(self) -> RiskState:
        accounts, now_ns = self._accounts, self.clock.monotonic_ns()
        symbols = self._config.market_data.symbols
        return RiskState(
            state=self._conditions.state,
            reasons=tuple(self._conditions.reasons),
            equity=accounts.equity(),
            daily_pnl=accounts.daily_pnl(),
            exposure=accounts.exposure(),
            positions=accounts.quantities(),
            open_orders=accounts.open.describe(),
            mark_age_s={s: accounts.mark_age_s(s, now_ns) for s in symbols},
            feed=self._feed,
        )

    # -- the order gate --------------------------------------------------------------------

    def _on_intent(self, intent: OrderIntent) -> None:
        self._roll_day()
        now_mono_ns = self.clock.monotonic_ns()
        order = self._accounts.order_check(
            intent,
            state=self._conditions.state,
            reasons=self._conditions.reasons,
            now_mono_ns=now_mono_ns,
            now_ns=self.clock.time_ns(),
        )
        denial = first_denial(self._rules, order)
        if denial is not None:
            self._gate.deny(intent, denial)
        elif self._gate.allow(order):
            self._accounts.allowed(order, now_mono_ns)

    # -- marks, positions, PnL -------------------------------------------------------------

    def _on_marks_sampled(self, message: MarksSampled) -> None:
        now_mono_ns = self.clock.monotonic_ns()
        for sample in message.samples:
            self._accounts.sampled(sample, now_mono_ns)
            if sample.mark is not None and not sample.stale:
                self._check_volatility(sample.symbol, sample.mark)
        self._check_marks()
        self._publish_state(f"cycle {message.cycle}")

    def _on_portfolio_valued(self, message: PortfolioValued) -> None:
        first = self._accounts.valued is None
        self._accounts.portfolio_valued(message)
        if first:
            self._conditions.book_read()
        if message.correlation_id is not None and message.correlation_id == self._book_behind:
            self._book_behind = None
            completed, self._completed = self._completed, None
            if completed is not None:
                self._on_reconciliation_completed(completed)
        self._check_daily_loss()
        self._publish_state("positions told" if first else "portfolio valued")
        if message.cycle is not None:
            self.publish(self._snapshot(message))

    def _snapshot(self, valued: PortfolioValued, *, at_stop: bool = False) -> RiskSnapshot:
        conditions = self._conditions
        snapshot = self._accounts.risk_snapshot(
            valued, stamp=self._stamper.stamp(), state=conditions.state,
            reasons=conditions.reasons, starting=conditions.starting,
        )  # fmt: skip
        return attrs.evolve(snapshot, at_stop=at_stop) if at_stop else snapshot

    # -- automatic conditions --------------------------------------------------------------

    def _check_marks(self) -> None:
        now_mono_ns = self.clock.monotonic_ns()
        symbols = self._config.market_data.symbols
        self._conditions.marks({s: self._accounts.mark_age_s(s, now_mono_ns) for s in symbols})

    def _roll_day(self) -> None:
        """Start a new UTC day's PnL when the day changed, lifting a daily loss trip."""
        today = self.clock.now().date()
        if self._accounts.roll_day(today):
            logger.info("UTC day %s: the day's PnL counts from here", today)
            self._conditions.new_day()

    def _check_daily_loss(self) -> None:
        self._roll_day()
        tripped = self._conditions.day_pnl(self._accounts.daily_pnl())
        if tripped is None:
            return
        logger.error("%s: REDUCING and cancelling open entry orders", tripped)
        self._gate.cancel_entries(tripped)

    def _check_volatility(self, symbol: str, mark: Decimal) -> None:
        news = self._conditions.sample(symbol, mark)
        if news is not None:
            logger.warning("%s", news)

    def _on_reconciliation_started(self, message: ReconciliationStarted) -> None:
        self._completed = None  # a newer pass: an older success waiting for the book is moot
        self._conditions.reconciling(message.reason)
        self._publish_state(f"reconciling ({message.reason})")

    def _on_reconciliation_completed(self, message: ReconciliationCompleted) -> None:
        if message.success and self._book_behind is not None:
            # The venue's account is not in the portfolio's book yet: trading on the book
            # before would act on a position the reconciliation is about to correct.
            self._completed = message
            return
        self._completed = None  # a failure after it: the older success waiting is moot
        self._conditions.reconciled(success=message.success, error=message.error)
        outcome = "succeeded" if message.success else f"failed: {message.error}"
        self._publish_state(f"reconciliation {outcome}")

    def _on_watched(self, message: ActorDown | ActorUp) -> None:
        up = isinstance(message, ActorUp)
        final = isinstance(message, ActorDown) and message.final
        self._conditions.watched(message.path, up=up, final=final)
        self._publish_state(f"{message.path} is {'up' if up else 'down'}")

    def _on_check(self) -> None:
        self._check_marks()
        self._check_daily_loss()
        self._accounts.open.expire(self.clock.time_ns())
        self._publish_state("periodic check")

    # -- the operator ----------------------------------------------------------------------

    def _on_operator(self, command: OperatorCommand) -> TradingState:
        self._operator_acted = True
        self._latch(type(command), command.reason, command.operator)
        state, reasons = self._conditions.state, self._conditions.reasons
        outcome = f"trading {state} ({'; '.join(reasons)})" if reasons else f"trading {state}"
        self._journal.audit(command, outcome)
        return state

    def _latch(self, kind: type[OperatorCommand], reason: str, operator: str) -> None:
        """Apply an operator's Halt, ReduceOnly or Resume, persist it in the journal for the
        next process, and publish the resulting state (on a Halt the executor cancels every open
        order)."""
        self._conditions.command(kind, reason, operator)
        self._journal.persist(kind, reason, operator)
        self._publish_state(f"{ACTIONS[kind]} by {operator}: {reason}")

    def _on_operator_state_read(self, message: OperatorStateRead) -> None:
        if not self._journal.answered(message):
            return
        if message.error:
            # Stay HALTED (fail closed) until an operator resumes.
            logger.error("reading the operator's last command from the journal failed: %s",
                         message.error)  # fmt: skip
            self._conditions.journal_unreadable(message.error)
            self._publish_state("journal unreadable", force=True)
            return
        command = message.command
        if command is not None and not self._operator_acted:  # else ours is newer
            self._conditions.command(type(command), command.reason, command.operator)
        self._conditions.journal_read()
        self._publish_state("operator state read from the journal")

    # -- publishing the state --------------------------------------------------------------

    def _publish_state(self, cause: str, *, force: bool = False) -> None:
        current = (self._conditions.state, self._conditions.holds.active())
        if current == self._published and not force:
            return
        previous = None if self._published is None else self._published[0]
        self._published = current
        state, reasons = self._conditions.state, self._conditions.reasons
        starting = self._conditions.starting
        if state is not previous:
            log = logger.warning if state is not TradingState.ACTIVE else logger.info
            if starting:
                log = logger.info
            word = STARTING if starting else str(state)
            log("trading %s (%s): %s", word, cause, "; ".join(reasons) or "all clear")
        message_id, ts_created_ns = self._stamper.stamp()
        self.publish(
            TradingStateChanged(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                state=state,
                previous=previous,
                reason=cause,
                reasons=reasons,
                stops_everything=self._conditions.stops_everything,
                starting=starting,
            )
        )
