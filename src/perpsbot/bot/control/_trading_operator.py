"""The shell's trading helpers: look at orders, positions and PnL; halt, reduce, resume, cancel.

The operator's Halt, ReduceOnly and Resume are asked of ``bot/risk`` (they overtake queued
intents on its priority lane; the reply is the trading state they left). Risk journals the
command and its audit; the helper then waits until the journal confirms the commit, so an
answer of HALTED survives a kill of the process. ``cancel_all`` is asked of the executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from perpsbot.actors import ExecutorState, RiskState
from perpsbot.bot.control._journal import sync_journal
from perpsbot.bot.control._trading_views import (
    describe_state,
    open_orders,
    order_table,
    pnl_table,
    position_table,
    trading_report,
)
from perpsbot.bot.control._trading_watch import TradingWatch
from perpsbot.control import AuditSink, Operator, Table, Text, helper, log_audit, state_as
from perpsbot.errors import ActorNotFoundError, AskTimeoutError
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    CancelAllOrders,
    Halt,
    OrderStatus,
    ReduceOnly,
    Resume,
    Stamper,
    TradingState,
)
from perpsbot.runtime import ActorSystem

__all__ = ["TradingOperator"]

T = TypeVar("T")

#: How long the executor may take over ``cancel_all`` (it calls the venue).
CANCEL_TIMEOUT_S = 15.0


class TradingOperator(Operator):
    """Trading helpers on top of :class:`Operator`: ``trading()``, ``orders()``,
    ``positions()``, ``pnl()``, and the audited ``halt()``, ``reduce_only()``, ``resume()``,
    ``cancel_all()``.

    Args:
        system: the bot's actor system.
        root: the path of the bot's supervisor (risk, executor and journal are its children).
        watch: what risk and the executor published.
        journal_file: the journal's file, read (read-only) for orders the watch did not see.
        sync_timeout_s: how long the journal may take to commit an operator's command.
    """

    def __init__(
        self,
        system: ActorSystem,
        *,
        root: str,
        watch: TradingWatch,
        journal_file: Path | None = None,
        operator: str = "in-process",
        audit: AuditSink = log_audit,
        timeout_s: float = 2.0,
        sync_timeout_s: float = 5.0,
    ) -> None:
        super().__init__(system, operator=operator, audit=audit, timeout_s=timeout_s)
        self._root = root
        self._watch = watch
        self._journal_file = journal_file
        self._sync_timeout_s = sync_timeout_s
        self._stamper = Stamper(system.clock, system.ids)

    def _path(self, name: str) -> str:
        return f"{self._root}/{name}"

    def _state(self, name: str, kind: type[T]) -> T:
        return state_as(self.system, self._path(name), kind, timeout_s=self.timeout_s)

    # -- looking -----------------------------------------------------------------------------

    @helper
    def trading(self) -> dict[str, Any]:
        """The trading state and every hold, equity, PnL, orders, reconciliation.

        Also the number of positions and of open orders, and the last reconciliation pass."""
        report = trading_report(self.system, self._root, self._watch)
        if report is None:
            raise ActorNotFoundError(f"{self._path('risk')} does not answer")
        return report

    @helper
    def orders(self, recent: int = 20) -> Table:
        """Open orders and the ``recent`` latest finished ones: status, sizes, fills."""
        executor = self._state("executor", ExecutorState)
        observed = self._watch.observed()
        unseen = [coid for coid in executor.orders if coid not in observed.orders]
        if not unseen or self._journal_file is None:
            return order_table(executor, observed, recent=recent)
        with JournalReader(self._journal_file) as reader:  # orders from before the watch
            return order_table(executor, observed, recent=recent, details=reader.order)

    @helper
    def positions(self) -> Table:
        """Each position: quantity, entry, mark, notional, PnL, fees, funding."""
        risk = self._state("risk", RiskState)
        snapshot = self._watch.observed().snapshot
        return position_table(risk, snapshot, self.system.clock.time_ns())

    @helper
    def pnl(self) -> Table:
        """PnL by symbol and in total; equity, the day's PnL and exposure in the title.

        Columns: realized, fees, funding, unrealized, net (realized - fees + funding +
        unrealized)."""
        risk = self._state("risk", RiskState)
        snapshot = self._watch.observed().snapshot
        return pnl_table(risk, snapshot, self.system.clock.time_ns())

    # -- steering ----------------------------------------------------------------------------

    @helper(action=True, journaled=True)
    def halt(self, reason: str) -> Text:
        """Stop trading (cancels only) and cancel every open order, until resume();
        journaled, survives restarts."""
        return self._command(Halt, reason)

    @helper(action=True, journaled=True)
    def reduce_only(self, reason: str) -> Text:
        """Only orders that shrink a position until resume(); journaled, survives restarts."""
        return self._command(ReduceOnly, reason)

    @helper(action=True, journaled=True)
    def resume(self, reason: str = "resumed by the operator") -> Text:
        """Lift the operator's halt or reduce-only and a tripped volatility breaker; the
        other automatic holds still apply."""
        return self._command(Resume, reason)

    @helper(action=True)
    def cancel_all(self, entries_only: bool = False, symbol: str | None = None) -> Text:
        """Cancel every open order, exits too unless ``entries_only``; ``symbol``: one's.

        Answers how many were open and what came of them, then the open orders."""
        path = self._path("executor")
        before = open_orders(self._state("executor", ExecutorState))
        message_id, ts_created_ns = self._stamper.stamp()
        self.system.address(path).ask(
            CancelAllOrders(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                reason=f"cancel_all by {self.operator}",
                entries_only=entries_only,
                symbol=symbol,
            ),
            timeout_s=CANCEL_TIMEOUT_S,
        )
        after = self._state("executor", ExecutorState).orders
        statuses = [after[coid] for coid in before if coid in after]
        cancelled = sum(1 for s in statuses if s is OrderStatus.CANCELLED)
        pending = sum(1 for s in statuses if s is OrderStatus.CANCEL_PENDING)
        scope = "entries" if entries_only else "orders"
        where = "" if symbol is None else f" of {symbol}"
        return Text(
            f"{len(before)} open orders before cancel_all ({scope}{where}): {cancelled}"
            f" cancelled, {pending} cancel pending, {len(statuses) - cancelled - pending} other"
            "\n" + repr(self.orders(recent=0))
        )

    def _command(self, kind: type[Halt | ReduceOnly | Resume], reason: str) -> Text:
        if not reason.strip():
            raise ValueError(f"{kind.__name__} needs a reason for the audit; it was empty")
        message_id, ts_created_ns = self._stamper.stamp()
        command = kind(
            message_id=message_id,
            ts_created_ns=ts_created_ns,
            reason=reason,
            operator=self.operator,
        )
        state: TradingState = self.system.address(self._path("risk")).ask(
            command, timeout_s=self.timeout_s
        )
        durable = self._commit(state)
        reasons = self._state("risk", RiskState).reasons
        return Text(f"trading {describe_state(state.value, reasons)}\n{durable}")

    def _commit(self, state: TradingState) -> str:
        """Wait until the journal committed what risk told it (the command, its audit and
        the state change); returns what to tell the operator about it."""
        try:
            sync_journal(self.system, self._path("journal"), timeout_s=self._sync_timeout_s)
        except ActorNotFoundError:
            return "no journal in this tree: it holds until the process ends"
        except AskTimeoutError as error:
            raise AskTimeoutError(
                f"trading is {state.value}, but the journal did not confirm the commit within"
                f" {self._sync_timeout_s}s: it may not survive a crash of the process"
            ) from error
        return "committed to the journal"
