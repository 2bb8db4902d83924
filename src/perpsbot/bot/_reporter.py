"""ConsoleReporter: prints every sampling cycle and every order event for the operator of
``perpsbot run``."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any, TextIO

import attrs

from perpsbot.actors.risk.risk import STARTING
from perpsbot.bot._summary import book_figures, margin_use, position_text
from perpsbot.config import RiskConfig
from perpsbot.messages import (
    AccountReconciled,
    DryRunOrder,
    FeedState,
    FeedStatusChanged,
    FuturesAccount,
    MarkSample,
    MarksSampled,
    OrderDenied,
    OrderFilled,
    OrderStatus,
    OrderUpdated,
    PositionChanged,
    PositionView,
    ProductsLoaded,
    ProductSpec,
    ReconciliationCompleted,
    RiskSnapshot,
    SignalsEvaluated,
    SymbolSignal,
    TradingStateChanged,
)
from perpsbot.runtime import ActorContext, BaseActor, ConfigChanged

__all__ = ["ConsoleReporter", "ReporterState"]

#: Order updates that say nothing the next one will not (the venue has not answered yet).
_QUIET = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED})
#: Cycles kept waiting for the strategy's and risk's reading (and the products' price
#: increments) before they print without them.
_MAX_WAITING = 2


@attrs.frozen(kw_only=True)
class ReporterState:
    """The console reporter's inspection reply: what its next lines are written from."""

    feed: FeedState
    trading: str | None
    """The trading state word last printed (None: none yet)."""
    products: tuple[str, ...]
    """The symbols whose price increments it knows."""
    last_cycle_printed: int


@attrs.define
class _Cycle:
    """One cycle's parts, which arrive from three actors in any order."""

    sampled: MarksSampled | None = None
    signals: SignalsEvaluated | None = None
    snapshot: RiskSnapshot | None = None

    @property
    def complete(self) -> bool:
        return None not in (self.sampled, self.signals, self.snapshot)


class ConsoleReporter(BaseActor):
    """Prints what the bot sees and does; every line is one event, in the order it happened.

    Each cycle prints once the strategy's signals and risk's snapshot of it arrived and the
    products' price increments are known (or the next cycles arrived without them): one line
    per symbol (mark at the product's price increment, window, source, signal and action,
    position: long or short, size, entry, unrealized PnL) and one summary line (equity,
    leverage, margin use, realized, unrealized, funding and today's PnL, trading state, feed
    health; see :func:`~perpsbot.bot._summary.book_figures`). Order updates, fills, denials,
    dry-run orders, trading-state changes and reconciliations print one line each as they
    come; until a start's first reconciliation succeeded its trading state reads "holding
    until reconciliation".

    The tree's wiring (``bot_spec``) makes it a subscriber. The feed's state is a ``latest``
    topic: each incarnation is told the streamer's current one as it starts, so a reporter
    restarted with the poller shows the feed as it is, not as "connecting" until it next
    changes. The products and the futures account pass to the successor.

    Args:
        context: from the supervisor.
        out: where to print.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        out: TextIO = sys.stdout,
    ) -> None:
        super().__init__(context=context)
        self._out = out
        self._products: dict[str, ProductSpec] = {}
        self._futures: FuturesAccount | None = None
        # The leverage caps a future without margin rates is margined at (defaults without
        # a configuration: a reporter embedded on its own).
        self._risk = RiskConfig() if context.config is None else context.config.risk
        self._state_word: str | None = None
        self._feed = FeedState.CONNECTING
        self._cycles: dict[int, _Cycle] = {}
        self._printed = 0  # the last cycle printed

    def snapshot_state(self) -> dict[str, Any]:
        # The products come from the executor at its start and every product_refresh_s, the
        # futures account with each reconciliation: a successor without them would print
        # every cycle late, and no margin use.
        return {
            "products": dict(self._products),
            "futures": self._futures,
            "state_word": self._state_word,
        }

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._products.update(snapshot["products"])
        self._futures = snapshot["futures"]
        self._state_word = snapshot["state_word"]

    def inspect_state(self) -> ReporterState:
        return ReporterState(
            feed=self._feed,
            trading=self._state_word,
            products=tuple(sorted(self._products)),
            last_cycle_printed=self._printed,
        )

    def on_receive(self, message: Any) -> None:
        match message:
            case MarksSampled():
                self._on_marks_sampled(message)
            case SignalsEvaluated():
                self._on_cycle_part(message.cycle, signals=message)
            case RiskSnapshot():
                self._on_cycle_part(message.cycle, snapshot=message)
            case FeedStatusChanged(state=state):
                self._feed = state
            case ProductsLoaded(products=products):
                self._products.update((p.symbol, p) for p in products)
                self._print_ready()
            case AccountReconciled(futures=futures):
                if futures is not None:
                    self._futures = futures
            case OrderUpdated():
                self._on_order_updated(message)
            case OrderFilled():
                self._on_order_filled(message)
            case OrderDenied():
                by = "" if message.denied_by == "risk" else f" by {message.denied_by}"
                self._write(f"denied{by} {message.symbol} ({message.rule}): {message.reason}")
            case DryRunOrder():
                self._write(f"dry run {message.symbol}: would place {message.request}")
            case TradingStateChanged():
                self._on_trading_state_changed(message)
            case ReconciliationCompleted():
                self._on_reconciliation_completed(message)
            case PositionChanged():
                if message.is_correction:  # a fill's change is printed as its fill
                    self._write(f"position {message.cause}")
            case _:
                self.unhandled(message)

    def on_config_changed(self, message: ConfigChanged) -> None:
        """The leverage caps apply live (a future without margin rates is margined at them)."""
        self._risk = message.config.risk

    # -- cycles ----------------------------------------------------------------------------

    def _on_marks_sampled(self, sampled: MarksSampled) -> None:
        self._on_cycle_part(sampled.cycle, sampled=sampled)
        for number in sorted(self._cycles)[:-_MAX_WAITING]:
            late = self._cycles.pop(number)  # its strategy or risk reading is not coming
            if late.sampled is not None:
                self._print_cycle(late.sampled, late)

    def _on_cycle_part(
        self,
        number: int,
        *,
        sampled: MarksSampled | None = None,
        signals: SignalsEvaluated | None = None,
        snapshot: RiskSnapshot | None = None,
    ) -> None:
        if number <= self._printed:
            return  # printed already (without this part), or sampled before this reporter
        cycle = self._cycles.setdefault(number, _Cycle())
        cycle.sampled = sampled or cycle.sampled
        cycle.signals = signals or cycle.signals
        cycle.snapshot = snapshot or cycle.snapshot
        self._print_ready()

    def _print_ready(self) -> None:
        """Print the newest cycle that is complete and whose marks can print at their
        products' increments, and every cycle before it."""
        ready = [n for n, c in self._cycles.items() if c.complete and self._priced(c)]
        if not ready:
            return
        for earlier in sorted(n for n in self._cycles if n <= max(ready)):
            done = self._cycles.pop(earlier)
            if done.sampled is not None:
                self._print_cycle(done.sampled, done)

    def _priced(self, cycle: _Cycle) -> bool:
        samples = cycle.sampled.samples if cycle.sampled is not None else ()
        return all(sample.symbol in self._products for sample in samples)

    def _print_cycle(self, sampled: MarksSampled, cycle: _Cycle) -> None:
        self._printed = max(self._printed, sampled.cycle)
        snapshot = cycle.snapshot
        signals = {s.symbol: s for s in cycle.signals.signals} if cycle.signals else {}
        positions = {p.symbol: p for p in snapshot.positions} if snapshot else {}
        lines = [f"cycle {sampled.cycle}:"]
        for sample in sampled.samples:
            lines.append(
                self._symbol_line(sample, signals.get(sample.symbol), positions.get(sample.symbol))
            )
        lines.append(self._summary_line(snapshot))
        self._write("\n".join(lines))

    def _symbol_line(
        self, sample: MarkSample, signal: SymbolSignal | None, position: PositionView | None
    ) -> str:
        mark = "-" if sample.mark is None else self._price(sample.symbol, sample.mark)
        source = "-" if sample.source is None else sample.source.value
        stale = " STALE" if sample.stale else ""
        decided = "-" if signal is None else f"{signal.signal.value} {signal.action}"
        return (
            f"  {sample.symbol:<18} mark {mark:>14}  window {len(sample.window):>3}"
            f"  source {source}{stale}  {decided:<16}  {position_text(position, self._price)}"
        )

    def _summary_line(self, snapshot: RiskSnapshot | None) -> str:
        feed = f"feed {self._feed.value}"
        if snapshot is None:
            return f"  (no risk snapshot)  {feed}"
        used = margin_use(
            snapshot.positions,
            self._products,
            self._futures,
            self._risk,
            self.clock.time_ns(),
        )
        state = STARTING if snapshot.starting else snapshot.state.value
        held = f" ({', '.join(snapshot.reasons)})" if snapshot.reasons else ""
        return f"  {book_figures(snapshot, used)}  state {state}{held}  {feed}"

    # -- events ----------------------------------------------------------------------------

    def _on_order_updated(self, update: OrderUpdated) -> None:
        if update.status in _QUIET:
            return
        filled = ""
        if update.filled_size and update.average_fill_price is not None:
            price = self._price(update.symbol, update.average_fill_price)
            filled = f" {update.filled_size.normalize():f} @ {price}"
        why = f" ({update.reason})" if update.reason and update.status.terminal else ""
        self._write(
            f"order {_short(update.client_order_id)}  {update.side.value.lower()}"
            f" {update.size.normalize():f} {update.symbol} {update.order_type.value.lower()}"
            f" ({update.purpose.value}): {update.status.value}{filled}{why}"
        )

    def _on_order_filled(self, fill: OrderFilled) -> None:
        self._write(
            f"fill  {_short(fill.client_order_id)}  {fill.side.value.lower()}"
            f" {fill.size.normalize():f} {fill.symbol} @ {self._price(fill.symbol, fill.price)}"
            f"  fee {fill.fee:.2f}"
        )

    def _on_trading_state_changed(self, change: TradingStateChanged) -> None:
        word = STARTING if change.starting else change.state.value
        previous = self._state_word
        if previous is None and change.previous is not None:
            previous = change.previous.value  # this reporter started after risk
        self._state_word = word
        if word == previous:
            return  # only the reasons changed: the cycle's summary line shows them
        held = f" ({', '.join(change.reasons)})" if change.reasons else ""
        was = "" if previous is None else f", was {previous}"
        self._write(f"trading {word}{held}{was}: {change.reason}")

    def _on_reconciliation_completed(self, done: ReconciliationCompleted) -> None:
        kind = "startup reconciliation" if done.startup else "reconciliation"
        if not done.success:
            self._write(f"{kind} failed: {done.error}")
        elif done.corrections or done.startup:
            fixes = "; ".join(done.corrections) or "nothing to correct"
            self._write(f"{kind}: {fixes}")

    # -- formatting ------------------------------------------------------------------------

    def _price(self, symbol: str, price: Decimal) -> str:
        """``price`` at the product's price increment (``68866.60``); as it is until the
        products are loaded."""
        product = self._products.get(symbol)
        if product is None:
            return f"{price.normalize():f}"
        return f"{price.quantize(product.price_increment.normalize()):f}"

    def _write(self, text: str) -> None:
        print(text, file=self._out, flush=True)


def _short(client_order_id: str) -> str:
    """Enough of a client order id to find it in ``perpsbot journal`` (``pb-`` + 9 hex)."""
    return client_order_id[:12]
