"""The whole bot on a loopback exchange whose prices, faults and clock a test scripts, with
restarts on the same journal and the same exchange: the driver of the stateful test.

One :class:`StatefulBot` is one exchange (its account outlives the bot's processes), one
journal file and a FakeClock that both share. :meth:`StatefulBot.start` starts an actor tree
(a "process"); :meth:`StatefulBot.restart` stops it and starts a new one on the same journal
and exchange, as a restarted daemon would. Every operation ends once the bot is quiet
(:meth:`StatefulBot.quiesce`): every actor drained, and no order waiting for the venue's
user channel. What is still unsettled then waits for the clock (a poll, a reconciliation) or
for a fault to clear.

The test reads the venue through its REST API (:class:`~tests.bot.stateful_venue.Venue`),
the bot through inspection (``system.state``) and what its actors publish
(:mod:`tests.bot.stateful_process`), and the journal through
:class:`~perpsbot.journal.JournalReader`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from perpsbot.actors.portfolio.portfolio import replay
from perpsbot.bot import ROOT, bot_spec
from perpsbot.clock import FakeClock
from perpsbot.config import (
    BotConfig,
    ExecutionConfig,
    JournalConfig,
    MarketDataConfig,
    RiskConfig,
    StrategyConfig,
)
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    Halt,
    OrderUpdated,
    ReconciliationCompleted,
    ReduceOnly,
    Resume,
    SignalsEvaluated,
    TradingState,
    TransitionSource,
    UserFeedChanged,
)
from perpsbot.runtime.testing import eventually
from perpsbot.sim import DuplicateClientOrderId, SimExchange
from tests.bot.stateful_process import TIMEOUT_S, Process, start_process
from tests.bot.stateful_venue import MOVES, SYMBOLS, Venue, exchange
from tests.support.sim_clients import sim_rest, venue_link

T = TypeVar("T")
logger = logging.getLogger("tests.bot.stateful")

INTERVAL_S = 0.5
RECONCILE_S = 10.0
POLL_S = 2.0

#: Drained in this order until nothing moves: a chain of tells crosses them in about it.
_DRAIN = (
    "marks", "strategy", "risk", "executor", "journal", "executor", "portfolio", "executor",
    "strategy", "risk", "journal",
)  # fmt: skip
#: States in which an order waits for the venue's user channel, which answers in real time,
#: once the executor took it from these sources.
_WAITS_FOR_FEED = ("acknowledged", "partially_filled", "cancel_pending")
_FOLLOWED = (TransitionSource.REST, TransitionSource.USER_CHANNEL, TransitionSource.POLL)
#: How long the user channel gets to move on the orders it follows.
_FEED_WAIT_S = 5.0
#: How the executor describes a settled order (an unsettled terminal one says what it awaits).
_SETTLED = ("filled", "cancelled", "rejected", "expired")


def bot_config(journal: Path, *, max_exposure_usd: Decimal) -> BotConfig:
    """Three symbols, short windows, a 1% trailing stop, a breaker that trips on a gap of 15%.

    A spot entry is about 1,000 USD, a BIP entry one contract (about 690 USD), so
    ``max_exposure_usd`` decides how many positions may be open (or on their way) at once.
    A cross needs a move of about a percent, so only the moves a test scripts trade.
    """
    return BotConfig(
        market_data=MarketDataConfig(
            symbols=SYMBOLS, update_interval_s=INTERVAL_S, stale_after_s=60.0,
            short_ma=2, long_ma=4,
        ),
        strategy=StrategyConfig(
            max_trade_usd=Decimal(1_000), ma_cross_epsilon_bps=Decimal(100),
            trailing_stop_pct=Decimal("0.01"), enable_shorts=False,
        ),
        risk=RiskConfig(
            max_exposure_usd=max_exposure_usd, max_position_usd=Decimal(1_500),
            max_order_usd=Decimal(1_500), daily_loss_limit_usd=Decimal(2_000),
            volatility_window=5, volatility_warn=Decimal("0.03"),
            volatility_reduce=Decimal("0.045"), volatility_halt=Decimal("0.06"),
            max_orders_per_minute=1_000,
        ),
        execution=ExecutionConfig(
            reconcile_interval_s=RECONCILE_S, order_poll_interval_s=POLL_S, intent_ttl_s=30.0,
        ),
        journal=JournalConfig(path=journal),
    )  # fmt: skip


@attrs.define
class StatefulBot:
    """The exchange, the clock, the journal and the bot's current process (see the module)."""

    sim: SimExchange
    clock: FakeClock
    journal: Path
    config: BotConfig
    venue: Venue
    process: Process | None = None
    history: list[Process] = attrs.Factory(list)

    # -- processes -------------------------------------------------------------------------

    def start(self) -> Process:
        """Start a new process of the bot on the journal and the exchange; wait until it has a
        mark for every symbol and is quiet (its startup reconciliation done, or failed on a
        fault and waiting for the clock to try again)."""
        link = venue_link(self.sim, self.clock, request_timeout_s=5.0)
        process = start_process(
            len(self.history) + 1, bot_spec(self.config, link), self.config, self.clock
        )
        self.process = process
        self.history.append(process)
        eventually(
            lambda: all(self.mark(s) for s in SYMBOLS), timeout_s=TIMEOUT_S, what="first marks"
        )
        self.quiesce()
        return process

    def stop(self) -> None:
        if self.process is not None:
            self.process.system.shutdown(timeout_s=TIMEOUT_S)
            self.process = None

    def close(self) -> None:
        """Stop the bot and the exchange."""
        try:
            self.stop()
        finally:
            self.venue.close()
            self.sim.stop()

    def restart(self) -> Process:
        self.stop()
        return self.start()

    @property
    def running(self) -> Process:
        assert self.process is not None, "the bot runs no process"
        return self.process

    # -- waiting ---------------------------------------------------------------------------

    def events(self) -> list[Any]:
        """What every process published, oldest first."""
        return [e for process in self.history for e in process.probe.events]

    def of(self, kind: type[T], predicate: Callable[[T], bool] = lambda _: True) -> list[T]:
        """What the running process published of ``kind`` (and ``predicate``)."""
        return self.running.of(kind, predicate)

    def wait(self, kind: type[T], predicate: Callable[[T], bool], what: str) -> T:
        return self.running.wait(kind, predicate, what)

    def _fingerprint(self) -> tuple[Any, ...]:
        executor = self.running.state("executor")
        return (
            len(self.running.probe.events),
            tuple(sorted(executor.orders.items())),
            executor.reconciled,
            executor.user_feed_healthy,
        )

    def _waiting_for_feed(self) -> list[str]:
        """Orders the user channel still has news of: those this process last heard of from
        the venue's answers or feed while the channel was healthy. (An order heard of before
        the channel last became healthy, e.g. one a startup reconciliation sent or announced,
        may have moved while nobody listened: a poll or a reconciliation settles it, on the
        clock.)"""
        executor = self.running.state("executor")
        if not executor.user_feed_healthy:
            return []
        events = self.running.probe.events
        healthy_since = max(
            (i for i, e in enumerate(events) if isinstance(e, UserFeedChanged) and e.healthy),
            default=len(events),
        )
        last: dict[str, OrderUpdated] = {}
        for e in events[healthy_since:]:
            if isinstance(e, OrderUpdated):
                last[e.client_order_id] = e
        return [
            coid
            for coid, status in executor.orders.items()
            if status in _WAITS_FOR_FEED and coid in last and last[coid].source in _FOLLOWED
        ]

    def _let_the_feed_move_on(self) -> None:
        """Give the user channel time to move on the orders it follows (it answers in real
        time). It may not: an event sent while its subscription was being set up is lost, as
        on the real venue, and then a poll or a reconciliation settles the order on the clock,
        which a later step moves. So this waits, and never fails."""
        try:
            eventually(lambda: not self._waiting_for_feed(), timeout_s=_FEED_WAIT_S)
        except AssertionError:
            waiting = self._waiting_for_feed()
            logger.info("the user channel did not move %s on: the clock will", waiting)

    def quiesce(self) -> None:
        """Wait until the bot is quiet: a full round of drains changes nothing, and no order
        waits for the user channel. What remains unsettled waits for the clock or a fault."""
        process = self.running
        for _ in range(50):
            before = self._fingerprint()
            for name in _DRAIN:
                process.drain(name)
            self._let_the_feed_move_on()
            if self._fingerprint() == before:
                return
        raise AssertionError(f"the bot never became quiet: {self._fingerprint()}")

    # -- the market and the clock ----------------------------------------------------------

    def mark(self, symbol: str) -> Decimal:
        latest = self.running.state("marks").latest.get(symbol)
        return latest.mark if latest else Decimal(0)

    def marks(self) -> dict[str, Decimal]:
        return {s: self.mark(s) for s in SYMBOLS}

    def move(self, coin: str, fraction: float) -> None:
        """Move ``coin``'s price by ``fraction`` and wait until the bot's marks show it."""
        before = {s: self.mark(s) for s in MOVES[coin]}
        self.sim.faults.price_jump(MOVES[coin][0], fraction)
        self.sim.step()
        eventually(
            lambda: all(self.mark(s) != before[s] for s in MOVES[coin]),
            timeout_s=TIMEOUT_S,
            what=f"marks {fraction:+} away",
        )

    def _last_cycle(self) -> int:
        return max((s.cycle for s in self.of(SignalsEvaluated)), default=0)

    def sample(self) -> SignalsEvaluated:
        """One sampling cycle; the strategy's reading of it, once the bot is quiet again."""
        last = self._last_cycle()
        self.clock.advance(INTERVAL_S)
        signals = self.wait(SignalsEvaluated, lambda m: m.cycle > last, f"a cycle after {last}")
        self.quiesce()
        return signals

    def advance(self, seconds: float) -> None:
        """Move business time on by ``seconds`` at once (polls, reconciliations, timeouts;
        one sampling cycle)."""
        last = self._last_cycle()
        self.clock.advance(seconds)
        self.wait(SignalsEvaluated, lambda m: m.cycle > last, f"a cycle after {last}")
        self.quiesce()

    def refresh_marks(self) -> None:
        """Fresh marks for every symbol: each price up a tenth of a percent (no cross, no stop:
        both need a percent)."""
        for coin in MOVES:
            self.move(coin, 0.001)

    def until_feeds_back(self) -> None:
        """Wait until the market feed streams and the user channel is healthy again."""
        process = self.running
        eventually(
            lambda: (
                process.state("streamer").state == "subscribed"
                and process.state("executor").user_feed_healthy
            ),
            timeout_s=TIMEOUT_S,
            what="the market feed and the user channel back",
        )
        self.quiesce()

    # -- settling --------------------------------------------------------------------------

    def unsettled(self) -> dict[str, str]:
        """The executor's orders that are not settled, and the strategy's pending intents."""
        process = self.running
        orders = process.state("executor").orders
        pending = process.state("strategy").pending
        return {
            **{c: s for c, s in orders.items() if s not in _SETTLED},
            **{f"intent {i}": "pending" for i in pending.values()},
        }

    def settle(self) -> None:
        """Clear every fault and move time on until every order is settled; then fresh
        marks."""
        self.sim.faults.clear()
        self.until_feeds_back()
        for _ in range(10):
            if not self.unsettled() and self.running.state("executor").reconciled:
                break
            self.advance(RECONCILE_S)
        else:
            raise AssertionError(
                f"with no fault for {10 * RECONCILE_S:.0f}s these are still unsettled:"
                f" {self.unsettled()}"
            )
        self.refresh_marks()

    def reconcile(self) -> None:
        """One more periodic reconciliation, which must find every order settled."""
        done = len(self.of(ReconciliationCompleted, lambda c: c.success))
        self.advance(RECONCILE_S)
        self.wait(
            ReconciliationCompleted,
            lambda c: (
                c.success and len(self.of(ReconciliationCompleted, lambda c: c.success)) > done
            ),
            "a reconciliation",
        )
        self.quiesce()
        assert not self.unsettled(), f"unsettled after a clean reconciliation: {self.unsettled()}"

    def committed(self) -> None:
        """Wait until the journal committed what it was told (its flush lands behind what
        was queued when it began a batch: a second drain passes it)."""
        self.running.drain("journal")
        self.running.drain("journal")

    # -- the operator ----------------------------------------------------------------------

    def command(self, kind: type[Halt | ReduceOnly | Resume]) -> TradingState:
        ts = self.clock.time_ns()
        message = kind(message_id=f"op-{ts}", ts_created_ns=ts, reason="drill", operator="test")
        state: TradingState = self.running.system.address(f"{ROOT}/risk").ask(
            message, timeout_s=TIMEOUT_S
        )
        self.quiesce()
        return state

    # -- what the bot shows ----------------------------------------------------------------

    def portfolio(self) -> dict[str, Decimal]:
        positions = self.running.state("portfolio").positions
        return {s: positions.get(s, Decimal(0)) for s in SYMBOLS}

    def journaled_fill_ids(self) -> set[str]:
        with JournalReader(self.journal) as reader:
            return {f.fill_id for f in reader.fills()}

    def journal_book(self) -> dict[str, Decimal]:
        """The positions the journal's fills and corrections replay to."""
        with JournalReader(self.journal) as reader:
            book, _ = replay(reader.book_events())
        quantities = {p.symbol: p.quantity for p in book.positions()}
        return {s: quantities.get(s, Decimal(0)) for s in SYMBOLS}


def open_bot(
    directory: Path, *, seed: int, max_exposure_usd: Decimal, duplicates: DuplicateClientOrderId
) -> StatefulBot:
    """A started bot on a fresh exchange and journal in ``directory``; :meth:`close` it."""
    clock = FakeClock()
    journal = directory / "journal.sqlite3"
    sim = exchange(clock, seed=seed, duplicates=duplicates).start()
    bot = StatefulBot(
        sim=sim,
        clock=clock,
        journal=journal,
        config=bot_config(journal, max_exposure_usd=max_exposure_usd),
        venue=Venue(sim_rest(sim, clock)),
    )
    try:
        bot.start()
    except BaseException:
        bot.close()
        raise
    return bot
