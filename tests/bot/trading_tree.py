"""The whole bot tree (``bot_spec``) in-process on a loopback exchange whose prices the test
scripts, with business time on a FakeClock.

The exchange never moves on its own (no ticker, no volatility): a test moves a price with
the ``price_jump`` fault and a market step, waits until the bot's mark shows it, then
advances the clock by one sampling interval, which makes the mark window sample, the
strategy decide and risk check. Sockets, threads and the journal file are real.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from perpsbot.bot import ROOT, bot_sections, bot_spec
from perpsbot.clock import FakeClock
from perpsbot.config import (
    BotConfig,
    ExecutionConfig,
    JournalConfig,
    MarketDataConfig,
    StrategyConfig,
)
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    AccountReconciled,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionChanged,
    RiskSnapshot,
    SignalsEvaluated,
    TradingState,
    TradingStateChanged,
)
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import Probe, eventually
from perpsbot.sim import CATALOGUE, SimConfig, SimExchange
from perpsbot.venue.recorder import FeedRecorder
from tests.actors.conftest import observed
from tests.support.sim_clients import venue_link

T = TypeVar("T")
SYMBOL = "BTC-USD"
INTERVAL_S = 0.5
#: An exchange that never moves on its own.
SCRIPTED = SimConfig(tick_interval_s=None, volatility=0.0, verify_auth=False, seed=3)

#: What each publisher of the tree tells the test's probe.
WATCHED: dict[str, tuple[type, ...]] = {
    "strategy": (SignalsEvaluated,),
    "portfolio": (PositionChanged,),
    "risk": (RiskSnapshot, TradingStateChanged, OrderDenied),
    "executor": (OrderUpdated, OrderFilled, OrderDenied, AccountReconciled),
}


def trading_config(journal: Path, *, symbol: str = SYMBOL, **strategy: Any) -> BotConfig:
    """One symbol, short windows; a cross needs a move of about a percent (100 bps), so only
    the moves a test scripts ever trade."""
    return BotConfig(
        market_data=MarketDataConfig(
            symbols=(symbol,), update_interval_s=INTERVAL_S, stale_after_s=60.0,
            short_ma=2, long_ma=4,
        ),
        strategy=StrategyConfig(
            **{"max_trade_usd": Decimal(1_000), "ma_cross_epsilon_bps": Decimal(100), **strategy}
        ),
        execution=ExecutionConfig(reconcile_interval_s=3_600.0),
        journal=JournalConfig(path=journal),
    )  # fmt: skip


@attrs.define
class TradingTree:
    system: ActorSystem
    sim: SimExchange
    clock: FakeClock
    probe: Probe
    journal: Path
    symbol: str = SYMBOL
    cycle: int = 0

    @property
    def priced_by(self) -> str:
        """The product whose price moves :attr:`symbol`'s: a future follows its underlying."""
        (product,) = [p for p in CATALOGUE if p.product_id == self.symbol]
        return product.underlying or product.product_id

    def of(self, kind: type[T], predicate: Callable[[T], bool] = lambda _: True) -> list[T]:
        return [e for e in self.probe.events if isinstance(e, kind) and predicate(e)]

    def wait(self, kind: type[T], predicate: Callable[[T], bool], what: str) -> T:
        """The first event of ``kind`` matching ``predicate``, once it happened."""
        self.probe.wait_for(lambda _: bool(self.of(kind, predicate)), timeout_s=10.0, what=what)
        return self.of(kind, predicate)[0]

    def mark(self) -> Decimal:
        latest = self.system.state(f"{ROOT}/marks").latest.get(self.symbol)
        return latest.mark if latest else Decimal(0)

    def move(self, fraction: float) -> Decimal:
        """Move the price by ``fraction`` and wait until the bot's mark shows it."""
        before = self.mark()
        self.sim.faults.price_jump(self.priced_by, fraction)
        self.sim.step()
        return eventually(
            lambda: (m := self.mark()) != before and m, what=f"a mark {fraction:+} away"
        )

    def sample(self) -> tuple[SignalsEvaluated, RiskSnapshot]:
        """One sampling cycle: the strategy's reading and risk's snapshot of it."""
        self.cycle += 1
        cycle = self.cycle
        self.clock.advance(INTERVAL_S)
        signals = self.wait(SignalsEvaluated, lambda m: m.cycle == cycle, f"signals {cycle}")
        snapshot = self.wait(RiskSnapshot, lambda m: m.cycle == cycle, f"snapshot {cycle}")
        return signals, snapshot

    def active(self) -> RiskSnapshot:
        """Sample until risk trades (reconciled, fresh marks); return that snapshot."""
        eventually(lambda: self.mark() > 0, what="a first mark")
        # The first mark made the window sample at once; the next cycles follow the clock.
        self.cycle = self.system.state(f"{ROOT}/marks").cycle
        executor = f"{ROOT}/executor"
        eventually(lambda: self.system.state(executor).reconciled, what="reconciliation")
        # Risk lifts its hold once the portfolio booked what the reconciliation found, which
        # waits for the journal's book: on a busy machine that can take several cycles.
        eventually(
            lambda: not any("reconcil" in r for r in self.system.state(f"{ROOT}/risk").reasons),
            what="risk knowing the reconciliation booked",
        )
        for _ in range(5):
            _, snapshot = self.sample()
            if snapshot.state is TradingState.ACTIVE:
                return snapshot
        raise AssertionError(f"trading never became active: {snapshot.reasons}")


def scripted_exchange() -> SimExchange:
    """An exchange whose prices move only when a test says (to run several trees on)."""
    return SimExchange(SCRIPTED)


@contextlib.contextmanager
def trading_tree(
    journal: Path,
    *,
    config: BotConfig | None = None,
    clock: FakeClock | None = None,
    sim: SimExchange | None = None,
    sim_config: SimConfig = SCRIPTED,
    recorder: FeedRecorder | None = None,
) -> Iterator[TradingTree]:
    """The bot tree on a scripted exchange; the probe hears what :data:`WATCHED` lists.
    ``clock`` sets business time (a FakeClock from 2026-01-01 by default); the tree trades
    the first of ``config``'s symbols. ``sim`` is a running exchange to use (and leave
    running), else one is started from ``sim_config`` for the tree and stopped after it.
    ``recorder`` takes what the market feed receives (``perpsbot run --record``)."""
    clock = clock or FakeClock()
    config = config or trading_config(journal)
    with contextlib.ExitStack() as stack:
        if sim is None:
            sim = stack.enter_context(SimExchange(sim_config))
        link = venue_link(sim, clock, request_timeout_s=5.0)
        system = ActorSystem(
            "trading", clock=clock, ids=SequentialIds("m"), sections_of=bot_sections,
            watchdog_interval_s=None,
        )  # fmt: skip
        probe = Probe()
        try:
            system.start(
                observed(bot_spec(config, link, recorder=recorder), probe, WATCHED), config=config
            )
            yield TradingTree(
                system=system, sim=sim, clock=clock, probe=probe, journal=journal,
                symbol=config.market_data.symbols[0],
            )  # fmt: skip
        finally:
            system.shutdown()
