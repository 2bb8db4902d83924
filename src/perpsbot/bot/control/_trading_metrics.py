"""Prometheus series of the trading actors, gathered at scrape time.

From risk's state: the trading state, its holds, equity, the day's PnL and exposure. From the
executor's: open orders and reconciliation passes. From the :class:`TradingWatch`: orders by
status reached, fills, denials by rule and by who denied, PnL and each position's notional
from risk's latest snapshot, and the age of the last successful reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from perpsbot.actors import ExecutorState, RiskState
from perpsbot.bot.control._trading_views import open_orders
from perpsbot.bot.control._trading_watch import Observed, TradingWatch
from perpsbot.control import state_or_none
from perpsbot.messages import OrderStatus, TradingState
from perpsbot.runtime import ActorSystem

__all__ = ["TradingCollector"]


def _gauge(name: str, documentation: str, value: Decimal | float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


class TradingCollector(Collector):
    """Orders by status and outcome, denials by rule, the trading state, equity and PnL,
    positions' notional, open orders, reconciliation."""

    def __init__(self, system: ActorSystem, root: str, watch: TradingWatch) -> None:
        self._system = system
        self._root = root
        self._watch = watch

    def collect(self) -> Iterator[Metric]:
        observed = self._watch.observed()
        yield from self._orders(observed)
        risk = state_or_none(self._system, f"{self._root}/risk", RiskState)
        if risk is not None:
            yield from self._risk(risk, observed)
        executor = state_or_none(self._system, f"{self._root}/executor", ExecutorState)
        if executor is not None:
            yield from self._executor(executor, observed)

    def _orders(self, observed: Observed) -> Iterator[Metric]:
        reached = CounterMetricFamily(
            "perpsbot_orders",
            "orders that reached each status (the terminal ones are outcomes)",
            labels=["status", "terminal"],
        )
        for status in OrderStatus:
            reached.add_metric(
                [status.value, str(status.terminal).lower()], observed.transitions.get(status, 0)
            )
        yield reached
        yield CounterMetricFamily("perpsbot_fills", "fills published", value=observed.fills)
        denials = CounterMetricFamily(
            "perpsbot_order_denials", "intents denied, by rule", labels=["rule", "denied_by"]
        )
        for (rule, denied_by), count in sorted(observed.denials.items()):
            denials.add_metric([rule, denied_by], count)
        yield denials

    def _risk(self, risk: RiskState, observed: Observed) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "perpsbot_trading_state", "1 for the current trading state", labels=["state"]
        )
        for candidate in TradingState:
            state.add_metric([candidate.value], 1 if candidate is risk.state else 0)
        yield state
        yield _gauge("perpsbot_trading_holds", "conditions holding trading back", len(risk.reasons))
        if risk.equity is not None:
            yield _gauge("perpsbot_equity_usd", "account equity", risk.equity)
        yield _gauge("perpsbot_daily_pnl_usd", "PnL since 00:00 UTC", risk.daily_pnl)
        yield _gauge("perpsbot_exposure_usd", "absolute notional of all positions", risk.exposure)
        snapshot = observed.snapshot
        if snapshot is None:
            return
        yield _gauge(
            "perpsbot_realized_pnl_usd",
            "realized PnL, after fees and funding",
            snapshot.realized_pnl,
        )
        yield _gauge(
            "perpsbot_unrealized_pnl_usd", "unrealized PnL at the marks", snapshot.unrealized_pnl
        )
        notional = GaugeMetricFamily(
            "perpsbot_position_notional_usd", "each position's notional", labels=["symbol"]
        )
        for position in snapshot.positions:
            notional.add_metric([position.symbol], float(position.notional))
        yield notional

    def _executor(self, executor: ExecutorState, observed: Observed) -> Iterator[Metric]:
        yield _gauge("perpsbot_open_orders", "orders not finished", len(open_orders(executor)))
        passes = CounterMetricFamily(
            "perpsbot_reconciliations", "reconciliation passes, by outcome", labels=["outcome"]
        )
        passes.add_metric(["success"], executor.reconciliations)
        passes.add_metric(["failure"], executor.reconciliation_failures)
        yield passes
        yield _gauge(
            "perpsbot_reconciled",
            "1 once the startup reconciliation succeeded",
            1 if executor.reconciled else 0,
        )
        if observed.last_success_ns is not None:
            age_s = (self._system.clock.time_ns() - observed.last_success_ns) / 1e9
            yield _gauge(
                "perpsbot_reconciliation_age_seconds",
                "seconds since the last successful reconciliation",
                age_s,
            )
