"""StrategyActor: the baseline MA crossover with a trailing stop, turning samples into intents.

On each ``MarksSampled`` it decides per symbol (``_decisions.decide``) and tells risk an
``OrderIntent`` for every entry or exit; it never talks to the venue. It learns the trading
state, equity and exposure from risk (``TradingStateChanged``, ``RiskSnapshot``), positions from the
portfolio (``PositionChanged``), product sizes from the executor (``ProductsLoaded``), and the
fate of its intents from ``OrderDenied`` / ``OrderUpdated``: while one is pending for a symbol
it sends no other, until its order is settled (terminal, and its fills booked in the
position it then holds). An open order it did not send (journaled before a restart, or
adopted from the venue) is waited for the same way. After each cycle it publishes
``SignalsEvaluated`` for the reporter.

Intent ids are ``<symbol>:<purpose>:<cycle>:<sample time>``: the same decision on the same
sample gives the same id (and so, in the executor, the same client order id), while a new
process, whose cycles count from 1 again, never reuses an id. Trailing stops, positions,
reversals still to enter and pending intents survive the actor's restarts (warm restart).

Trailing stops also survive the process: each change of one (set, followed, ended) is
published as ``StopMoved`` for the journal, and a cold start reads the last ones back
(``ReadStops``). A stop read back applies to the position it was set for (same side, same
average entry) and only tightens the one seeded at the entry: a profitable position keeps
the peak it reached before the restart.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.strategy._decisions import Params, Situation, WantedOrder, decide
from perpsbot.actors.strategy._inspection import StrategyState
from perpsbot.actors.strategy._trading_window import TradingWindow
from perpsbot.actors.strategy._trailing_stop import TrailingStop
from perpsbot.config import BotConfig
from perpsbot.messages import (
    DryRunOrder,
    MarkSample,
    MarksSampled,
    OrderDenied,
    OrderIntent,
    OrderUpdated,
    PositionChanged,
    ProductsLoaded,
    ProductSpec,
    ReadStops,
    RiskSnapshot,
    Signal,
    SignalsEvaluated,
    Stamper,
    StopMoved,
    StopsRead,
    SymbolSignal,
    TradingState,
    TradingStateChanged,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    BaseActor,
    ConfigChanged,
)

__all__ = ["StrategyActor"]

logger = logging.getLogger("perpsbot.actors.strategy")


@attrs.frozen(kw_only=True)
class _Pending:
    intent_id: str
    valid_until_ns: int
    reached_executor: bool = False
    """An order exists for it: wait for its end, however long (an UNKNOWN order included)."""


class StrategyActor(BaseActor):
    """Decides entries and exits per symbol on each sample and tells risk its intents.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        risk: where ``OrderIntent`` goes.
        journal: asked where the trailing stops were at a cold start (``ReadStops``); None
            runs without them.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        risk: ActorAddress,
        journal: ActorAddress | None = None,
    ) -> None:
        super().__init__(context=context)
        self._configure(context.config)
        self._risk = risk
        self._journal = journal
        self._stamper = Stamper(context.clock, context.ids)
        # Fail closed until risk says otherwise (it does at its start and every cycle).
        self._state = TradingState.HALTED
        self._equity: Decimal | None = None
        self._exposure = Decimal(0)
        self._products: dict[str, ProductSpec] = {}
        self._positions: dict[str, Decimal] = {}
        self._entries: dict[str, Decimal | None] = {}  # each position's average entry
        self._stops: dict[str, TrailingStop] = {}
        # Stops the journal read back, until the position they were set for shows up.
        self._saved: dict[str, StopMoved] = {}
        # Until the journal answered, no stop is journaled: its answer would hold ours.
        self._stops_known = journal is None
        self._reversals: dict[str, Signal] = {}
        self._pending: dict[str, _Pending] = {}
        self._last: tuple[SymbolSignal, ...] = ()

    def on_start(self) -> None:
        if not self._stops_known and self._journal is not None:
            message_id, ts = self._stamper.stamp()
            self._journal.tell(
                ReadStops(message_id=message_id, ts_created_ns=ts, reply_to=self.address)
            )

    def on_receive(self, message: Any) -> None:
        match message:
            case StopsRead():
                self._on_stops_read(message)
            case MarksSampled():
                self._on_marks_sampled(message)
            case PositionChanged():
                self._on_position_changed(message)
            case RiskSnapshot():
                self._on_risk_snapshot(message)
            case TradingStateChanged():
                self._state = message.state
            case ProductsLoaded():
                self._products = {p.symbol: p for p in message.products}
            case OrderDenied():
                self._settle(message.symbol, message.intent_id, f"denied: {message.reason}")
            case OrderUpdated():
                self._on_order_updated(message)
            case DryRunOrder():
                self._settle(message.symbol, message.intent_id, "dry run")
            case _:
                self.unhandled(message)

    def on_config_changed(self, message: ConfigChanged) -> None:
        self._configure(message.config)
        self._rescale_stops()

    def _rescale_stops(self) -> None:
        """Open stops keep their peak and take the configured percentage."""
        pct = self._params.trailing_stop_pct
        self._stops = {s: attrs.evolve(stop, pct=pct) for s, stop in self._stops.items()}

    def _configure(self, config: BotConfig) -> None:
        """Every setting applies live: ``strategy``, the MA lengths, ``execution.intent_ttl_s``."""
        self._params = Params.from_config(config)
        self._window = TradingWindow.from_config(config.strategy)
        self._ttl_ns = int(config.execution.intent_ttl_s * 1e9)

    # -- state across restarts and for inspection ------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {
            "state": self._state,
            "equity": self._equity,
            "exposure": self._exposure,
            "products": dict(self._products),
            "positions": dict(self._positions),
            "entries": dict(self._entries),
            "stops": dict(self._stops),
            "saved": dict(self._saved),
            "stops_known": self._stops_known,
            "reversals": dict(self._reversals),
            "pending": dict(self._pending),
            "last": self._last,
        }

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._state = snapshot["state"]
        self._equity = snapshot["equity"]
        self._exposure = snapshot["exposure"]
        self._products = snapshot["products"]
        self._positions = snapshot["positions"]
        self._entries = snapshot["entries"]
        self._stops = snapshot["stops"]
        self._saved = snapshot["saved"]
        self._stops_known = snapshot["stops_known"]
        self._rescale_stops()  # a reload that restarted us may have changed the percentage
        self._reversals = snapshot["reversals"]
        self._pending = snapshot["pending"]
        self._last = snapshot["last"]

    def inspect_state(self) -> StrategyState:
        return StrategyState(
            state=self._state,
            equity=self._equity,
            positions=dict(self._positions),
            stops={s: stop.stop for s, stop in self._stops.items()},
            reversals=dict(self._reversals),
            pending={s: p.intent_id for s, p in self._pending.items()},
            signals=self._last,
        )

    # -- handlers --------------------------------------------------------------------------

    def _on_marks_sampled(self, message: MarksSampled) -> None:
        self._expire_pending()
        in_window = self._window.contains(self.clock.now())
        now_ns = self.clock.time_ns()
        signals = []
        for sample in message.samples:
            decision = decide(self._situation(sample, in_window, now_ns), self._params)
            self._set_stop(sample.symbol, decision.stop)
            if decision.reversal is None:
                self._reversals.pop(sample.symbol, None)
            else:
                self._reversals[sample.symbol] = decision.reversal
            intent_id = None
            if decision.order is not None and sample.mark is not None:
                intent_id = self._send_intent(
                    message, sample.symbol, sample.mark, decision.order, decision.reason
                )
            signals.append(
                SymbolSignal(
                    symbol=sample.symbol,
                    signal=decision.signal,
                    action=str(decision.action),
                    reason=decision.reason,
                    intent_id=intent_id,
                )
            )
        self._last = tuple(signals)
        message_id, ts_created_ns = self._stamper.stamp()
        self.publish(
            SignalsEvaluated(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                cycle=message.cycle,
                signals=self._last,
            )
        )

    def _situation(self, sample: MarkSample, in_window: bool, now_ns: int) -> Situation:
        symbol = sample.symbol
        pending = self._pending.get(symbol)
        return Situation(
            sample=sample,
            position=self._positions.get(symbol, Decimal(0)),
            stop=self._stops.get(symbol),
            state=self._state,
            in_window=in_window,
            pending=None if pending is None else pending.intent_id,
            reversal=self._reversals.get(symbol),
            equity=self._equity,
            product=self._products.get(symbol),
            exposure=self._exposure,
            now_ns=now_ns,
        )

    def _send_intent(
        self, sampled: MarksSampled, symbol: str, mark: Decimal, order: WantedOrder, reason: str
    ) -> str:
        intent_id = f"{symbol}:{order.purpose}:{sampled.cycle}:{sampled.ts_created_ns}"
        valid_until_ns = sampled.ts_created_ns + self._ttl_ns
        message_id, ts_created_ns = self._stamper.stamp()
        product = self._products.get(symbol)
        leverage = self._params.leverage if product is not None and product.is_future else None
        intent = OrderIntent(
            message_id=message_id,
            ts_created_ns=ts_created_ns,
            intent_id=intent_id,
            symbol=symbol,
            side=order.side,
            size=order.size,
            purpose=order.purpose,
            leverage=leverage,
            reference_mark=mark,
            reason=reason,
            valid_until_ns=valid_until_ns,
        )
        self._pending[symbol] = _Pending(intent_id=intent_id, valid_until_ns=valid_until_ns)
        logger.info("%s: %s %s %s (%s)", intent_id, order.side, order.size, symbol, reason)
        self._risk.tell(intent)
        return intent_id

    def _on_position_changed(self, message: PositionChanged) -> None:
        """Record the portfolio's position; a position that opened or flipped gets a stop
        seeded at its opening fill's price (the average entry if adopted without one), or at
        the next mark when neither is known."""
        symbol, quantity = message.position.symbol, message.position.quantity
        entry = message.entry_fill_price or message.position.average_entry_price
        old = self._positions.get(symbol, Decimal(0))
        self._positions[symbol] = message.position.quantity
        self._entries[symbol] = message.position.average_entry_price
        if not quantity:
            self._set_stop(symbol, None)
        elif old * quantity <= 0:  # opened or flipped through zero
            if entry is None:
                self._set_stop(symbol, None)
            else:
                pct = self._params.trailing_stop_pct
                self._set_stop(symbol, TrailingStop(long=quantity > 0, pct=pct, peak=entry))
        self._resume_saved(symbol)

    def _on_stops_read(self, message: StopsRead) -> None:
        if self._stops_known:
            return  # a second answer (a restarted incarnation asked again)
        self._stops_known = True
        if message.error:
            logger.warning(
                "the trailing stops could not be read back (%s): each open position's stop "
                "starts again at its entry price",
                message.error,
            )
            return
        self._saved = {saved.symbol: saved for saved in message.stops}
        for symbol in list(self._saved):
            if symbol in self._positions:
                self._resume_saved(symbol)
        for symbol, stop in self._stops.items():  # set meanwhile: journaled now
            self._journal_stop(symbol, stop)

    def _resume_saved(self, symbol: str) -> None:
        """Apply the stop read back for ``symbol`` if it was set for the position held now
        (its side and average entry): the peak furthest in the position's favour wins."""
        saved = self._saved.pop(symbol, None)
        stop = self._stops.get(symbol)
        if saved is None or saved.peak is None or stop is None:
            return
        if saved.long != stop.long or saved.average_entry != self._entries.get(symbol):
            logger.info("%s: the stop read back was set for another position: not used", symbol)
            return
        self._set_stop(symbol, stop.follow(saved.peak))
        logger.info("%s: trailing from the peak read back, %s", symbol, saved.peak)

    def _set_stop(self, symbol: str, stop: TrailingStop | None) -> None:
        """Hold ``stop`` for ``symbol`` (None: no stop), and tell the journal if it moved."""
        old = self._stops.pop(symbol, None)
        if stop is not None:
            self._stops[symbol] = stop
        held = stop or old
        if held is None or (old and stop and (old.long, old.peak) == (stop.long, stop.peak)):
            return  # no stop before or after, or only its percentage changed
        if self._stops_known:
            self._journal_stop(symbol, held, ended=stop is None)

    def _journal_stop(self, symbol: str, stop: TrailingStop, *, ended: bool = False) -> None:
        message_id, ts_created_ns = self._stamper.stamp()
        self.publish(
            StopMoved(
                message_id=message_id, ts_created_ns=ts_created_ns, symbol=symbol,
                long=stop.long, peak=None if ended else stop.peak,
                average_entry=self._entries.get(symbol),
            )
        )  # fmt: skip

    def _on_risk_snapshot(self, message: RiskSnapshot) -> None:
        # Positions only from the portfolio's own events, in its order: a snapshot risk made
        # of an earlier valuation may arrive after a newer PositionChanged.
        self._state = message.state
        self._equity = message.equity
        self._exposure = message.exposure

    def _on_order_updated(self, message: OrderUpdated) -> None:
        if message.settled:  # terminal, and its fills are in the position it holds
            self._settle(message.symbol, message.intent_id, str(message.status))
            return
        pending = self._pending.get(message.symbol)
        if pending is None:
            # An order this incarnation did not send: one the journal held open across a
            # restart (it may be sent yet) or one adopted from the venue. It may still fill,
            # so it is waited for like an intent of our own.
            logger.info("%s: open, not sent by this process: waited for", message.intent_id)
            self._pending[message.symbol] = _Pending(
                intent_id=message.intent_id, valid_until_ns=0, reached_executor=True
            )
        elif pending.intent_id == message.intent_id:
            self._pending[message.symbol] = attrs.evolve(pending, reached_executor=True)

    def _settle(self, symbol: str, intent_id: str, outcome: str) -> None:
        pending = self._pending.get(symbol)
        if pending is not None and pending.intent_id == intent_id:
            del self._pending[symbol]
            logger.info("%s: %s", intent_id, outcome)

    def _expire_pending(self) -> None:
        """Forget intents that never became an order and can no longer become one."""
        now_ns = self.clock.time_ns()
        for symbol, pending in list(self._pending.items()):
            if not pending.reached_executor and now_ns > pending.valid_until_ns:
                del self._pending[symbol]
                logger.warning("%s: no answer before it expired; forgotten", pending.intent_id)
