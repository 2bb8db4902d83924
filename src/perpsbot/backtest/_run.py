"""One backtest: the bot's actor tree (the same ``bot_spec`` as ``perpsbot run``) against a
simulated exchange whose prices follow stored candles, on a fake clock the driver moves.

What differs from a live run is only what time-based and venue settings a bar-by-bar run
needs (:func:`backtest_config`): marks come from REST quote polls twice a bar and are sampled
once a bar, orders are followed by polls (no websockets, so nothing outside the runtime
delivers anything), the exchange moves only along the bar path, and ids and prices derive
from the seed and the clock. Everything else (strategy, risk, executor, portfolio, journal,
the exchange's matching, fees and funding) is the code that trades live.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.actors.execution._sweep import SWEEP_WINDOW_NS
from perpsbot.backtest._driver import DriverCounts, IdleDriver
from perpsbot.backtest._journal_file import backtest_journal
from perpsbot.backtest._link import backtest_link
from perpsbot.backtest._path import merged_path
from perpsbot.bot import bot_sections, bot_spec
from perpsbot.candle_sizes import GRANULARITY_S
from perpsbot.clock import FakeClock, stopwatch_ns
from perpsbot.config import BotConfig, SimConfig
from perpsbot.data import CandleStore
from perpsbot.errors import BacktestError
from perpsbot.ids import ThreadOrderedIds
from perpsbot.runtime import ActorSystem, Execution
from perpsbot.sim import SimExchange
from perpsbot.venue import Candle

__all__ = ["BacktestResult", "backtest_config", "run_backtest"]

_MONOTONIC_START_S = 1_000.0
#: How long a backtest's exchange keeps a settled order and its fills: twice the day over
#: which the executor's reconciliation reads the venue's fills (``SWEEP_WINDOW_NS``); it
#: looks up by id only the orders it holds unfinished.
FORGET_SETTLED_AFTER_S = 2 * SWEEP_WINDOW_NS / 10**9


@attrs.frozen(kw_only=True)
class BacktestResult:
    """What a backtest ran on and where its journal is (an ordinary journal)."""

    journal_path: Path
    marks: Mapping[str, Sequence[tuple[datetime, Decimal]]]
    """Per product, each bar's close at the bar's end: what the report values positions at."""
    starting_equity: Decimal
    bars: int
    """Candles played (all products together)."""
    first_s: int
    until_s: int
    counts: DriverCounts
    elapsed_s: float
    """Real seconds the run took, start and stop of the tree included."""


def backtest_config(
    config: BotConfig, *, granularity_s: int, journal: Path, seed: int
) -> BotConfig:
    """``config`` as a backtest runs it: sampled once a bar, quotes polled twice a bar, marks
    fresh for two bars, orders followed by polls every half bar (a fill is known before the
    next decision), a reconciliation at most every 30 bars and the products read at most
    every 60, risk's checks once a bar, the exchange's seed."""
    market_data = attrs.evolve(
        config.market_data,
        streaming=False,
        update_interval_s=float(granularity_s),
        poll_interval_s=granularity_s / 2,
        stale_after_s=3.0 * granularity_s,
    )
    return attrs.evolve(
        config,
        live=False,
        market_data=market_data,
        risk=attrs.evolve(
            config.risk, max_mark_age_s=max(config.risk.max_mark_age_s, 2.0 * granularity_s)
        ),
        execution=attrs.evolve(
            config.execution,
            dry_run=False,
            order_poll_interval_s=granularity_s / 2,
            reconcile_interval_s=max(config.execution.reconcile_interval_s, 30.0 * granularity_s),
            product_refresh_s=max(config.execution.product_refresh_s, 60.0 * granularity_s),
        ),
        sim=sim_settings(config.sim, seed=seed),
        journal=attrs.evolve(config.journal, path=journal),
    )


def sim_settings(sim: SimConfig, *, seed: int) -> SimConfig:
    """The exchange of a backtest: ``seed``, moved only by the driver, no signatures checked
    and no rate limits (the bot is its only client), on free ports."""
    return attrs.evolve(
        sim,
        seed=seed,
        tick_interval_s=None,
        volatility=0.0,
        verify_auth=False,
        enforce_rate_limits=False,
        rest_port=0,
        ws_port=0,
    )


def _load_series(
    store: CandleStore, symbols: Sequence[str], granularity: str, span: tuple[int, int] | None
) -> dict[str, list[Candle]]:
    series = {symbol: list(store.candles(symbol, granularity, span)) for symbol in symbols}
    empty = [symbol for symbol, candles in series.items() if not candles]
    if empty:
        held = sorted(
            f"{s.product_id} {s.granularity} ({s.candles})" for s in store.series() if s.candles
        )
        raise BacktestError(
            f"the candle store must hold {granularity} candles of {', '.join(empty)}"
            + (" in the span asked" if span is not None else "")
            + f"; it holds {', '.join(held) if held else 'none'}"
            " (perpsbot data download --symbols ... fills it)"
        )
    return series


def run_backtest(
    config: BotConfig,
    *,
    store: CandleStore,
    journal: Path,
    granularity: str = "ONE_MINUTE",
    span: tuple[int, int] | None = None,
    seed: int = 0,
    idle_timeout_s: float = 60.0,
) -> BacktestResult:
    """Run the bot's tree over the stored candles of ``config.market_data.symbols``.

    Raises:
        BacktestError: no candles for a symbol, a journal that exists already, or a stuck
            or failed actor tree.
    """
    if granularity not in GRANULARITY_S:
        raise BacktestError(
            f"granularity must be one of {', '.join(GRANULARITY_S)}, was {granularity!r}"
        )
    if journal.exists():
        raise BacktestError(f"the backtest's journal must be a new file, {journal} exists")
    granularity_s = GRANULARITY_S[granularity]
    config = backtest_config(config, granularity_s=granularity_s, journal=journal, seed=seed)
    symbols = config.market_data.symbols
    series = _load_series(store, symbols, granularity, span)
    first_s = min(candles[0].start_s for candles in series.values())
    until_s = max(candles[-1].start_s for candles in series.values()) + granularity_s
    marks = {
        symbol: [(datetime.fromtimestamp(c.start_s + granularity_s, UTC), c.close) for c in candles]
        for symbol, candles in series.items()
    }
    started_ns = stopwatch_ns()
    clock = FakeClock(start_s=_MONOTONIC_START_S, wall_start_ns=first_s * 10**9)
    path = merged_path(series, granularity_s)
    with contextlib.ExitStack() as stack:
        # The bars are the run's candles: the exchange keeps none of its own, nor the orders
        # and fills the bot can no longer ask about (memory flat).
        sim = SimExchange(
            config.sim,
            clock=clock,
            websockets=False,
            own_candles=False,
            forget_settled_after_s=FORGET_SETTLED_AFTER_S,
        )
        sim.start()
        stack.callback(sim.stop)
        opening = next(path)  # the exchange opens at the first bar's open
        sim.step_to(opening.prices)
        stack.enter_context(backtest_journal(journal))  # let go after the tree stopped
        system = ActorSystem(
            "backtest",
            clock=clock,
            ids=ThreadOrderedIds(f"bt{seed}"),
            sections_of=bot_sections,
            watchdog_interval_s=None,
            driven_timers=True,
            execution=Execution.CALLING_THREAD,
        )
        stack.callback(system.shutdown)
        spec = bot_spec(
            config,
            backtest_link(sim, clock),
            risk_check_interval_s=float(granularity_s),
            disposable_journal=True,  # a crash means a rerun: no fsync (docs/backtest.md)
        )
        system.start(spec, config=config)
        driver = IdleDriver(system=system, clock=clock, sim=sim, idle_timeout_s=idle_timeout_s)
        counts = driver.run(path, until_s=until_s)
        system.shutdown()  # risk journals the day's figures as it stops
    return BacktestResult(
        journal_path=journal,
        marks=marks,
        starting_equity=_starting_equity(journal),
        bars=sum(len(candles) for candles in series.values()),
        first_s=first_s,
        until_s=until_s,
        counts=counts,
        elapsed_s=(stopwatch_ns() - started_ns) / 1e9,
    )


def _starting_equity(journal: Path) -> Decimal:
    """The equity of the run's first reconciliation with the exchange (the account it started
    with), from the journal."""
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        row = db.execute(
            "SELECT equity FROM accounts WHERE equity IS NOT NULL ORDER BY seq LIMIT 1"
        ).fetchone()
    if row is None:
        raise BacktestError(f"the backtest's journal {journal} holds no account equity")
    return Decimal(row[0])
