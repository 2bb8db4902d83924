"""The trading actors (journal, portfolio, risk, executor, user feed: the real ones, wired as
the bot wires them) on the loopback exchange, with the bot's control plane model on top, for the
control plane's trading tests.

Marks come from the test (``sample``) instead of the market-data actors, so risk sees fresh
marks exactly when a test says so. Time is a FakeClock: risk's and the executor's timers fire
only when a test advances it; the exchange and the sockets run in real time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from perpsbot.actors import (
    ExecutorActor,
    JournalActor,
    PortfolioActor,
    RiskActor,
    RiskState,
    UserFeedActor,
    executor_mailbox,
    journal_mailbox,
    risk_mailbox,
)
from perpsbot.bot import WIRING
from perpsbot.bot.control import BotControl, BotOperator
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig, RiskConfig
from perpsbot.ids import SequentialIds
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    MarksSampled,
    OrderIntent,
)
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.venue import VenueLink
from tests.actors.execution.executor_harness import make_intent
from tests.actors.trading import sample, sampled
from tests.support.sim_clients import venue_link

SYMBOL = "BTC-USD"
MARK = "68923.67"  # the exchange's start price for BTC-USD

#: The children of this tree: the bot's wiring (``WIRING``) is followed among them.
CHILDREN = ("journal", "portfolio", "risk", "executor", "userfeed")
#: Who the mark window tells its samples, among these children.
SAMPLED = [name for name in WIRING.published_by("marks")[MarksSampled] if name in CHILDREN]


@attrs.define
class TradingBot:
    system: ActorSystem
    clock: FakeClock
    sim: SimExchange
    journal_path: Path
    control: BotControl
    symbol: str = SYMBOL
    mark: str = MARK
    _cycle: int = 0
    _intents: int = 0

    def ops(self, who: str = "tester") -> BotOperator:
        return self.control.operator(who)

    def sample(self, mark: str | None = None, *, age_s: float = 0.5) -> int:
        """One sampling cycle for risk: a mark of the bot's symbol (its exchange's start price
        unless given) received ``age_s`` ago (risk holds trading at REDUCING past
        ``risk.max_mark_age_s``, 30 s). Returns the cycle's number."""
        self._cycle += 1
        window = sample([mark or self.mark] * 3, symbol=self.symbol, age_s=age_s)
        cycle = sampled(self._cycle, window, ts_ns=self.clock.time_ns())
        for name in SAMPLED:
            self.system.address(f"bot/{name}").tell(cycle)
        return self._cycle

    def intent(self, **details: Any) -> OrderIntent:
        """Tell risk an intent (what the strategy does), priced at the exchange's mark."""
        self._intents += 1
        details = {"symbol": self.symbol, "mark": self.mark, **details}
        made = make_intent(self.clock, f"t-{self._intents}", **details)
        self.system.address("bot/risk").tell(made)
        return made

    def risk(self) -> RiskState:
        state: RiskState = self.system.state("bot/risk")
        return state

    def wait_state(self, state: str) -> None:
        eventually(lambda: self.risk().state == state, timeout_s=10, what=f"trading {state}")

    def reader(self) -> JournalReader:
        return JournalReader(self.journal_path)


@contextlib.contextmanager
def trading_bot(
    sim: SimExchange,
    journal_path: Path,
    *,
    ready: bool = True,
    clock: FakeClock | None = None,
    symbol: str = SYMBOL,
    mark: str = MARK,
    link: VenueLink | None = None,
    risk: RiskConfig | None = None,
) -> Iterator[TradingBot]:
    """Start journal, risk and executor trading ``symbol`` (whose exchange's price is
    ``mark``); return once the executor reconciled with the exchange and risk, given a fresh
    mark, trades (ACTIVE), or at once if not ``ready``. The bot's clock is ``clock`` (give
    the exchange's to share it) or a new one; its venue ``link`` that exchange's Advanced
    Trade face unless given; its ``risk`` limits the defaults unless given."""
    clock = clock or FakeClock()
    link = link or venue_link(sim, clock)
    config = BotConfig(
        journal=JournalConfig(path=journal_path),
        market_data=MarketDataConfig(symbols=(symbol,)),
        risk=risk or RiskConfig(),
    )

    def portfolio(ctx: ActorContext) -> PortfolioActor:
        journal = ctx.system.address("bot/journal")
        return PortfolioActor(context=ctx, journal=journal)

    def risk(ctx: ActorContext) -> RiskActor:
        address = ctx.system.address
        return RiskActor(
            context=ctx,
            executor=address("bot/executor"),
            journal=address("bot/journal"),
            watch=["bot/executor"],
        )

    def executor(ctx: ActorContext) -> ExecutorActor:
        return ExecutorActor(
            context=ctx,
            venue=link,
            journal=ctx.system.address("bot/journal"),
        )

    system = ActorSystem("t", clock=clock, ids=SequentialIds("msg"), watchdog_interval_s=None)
    control = BotControl(system, config=config)  # before the tree: it sees every order
    system.start(
        SupervisorSpec(
            name="bot",
            children=[
                ChildSpec(
                    name="journal",
                    factory=lambda ctx: JournalActor(context=ctx),
                    mailbox=journal_mailbox,
                ),
                ChildSpec(name="portfolio", factory=portfolio),
                ChildSpec(name="risk", factory=risk, mailbox=risk_mailbox),
                ChildSpec(
                    name="executor",
                    factory=executor,
                    mailbox=lambda: executor_mailbox(config.execution.max_pending_orders),
                ),
                ChildSpec(
                    name="userfeed",
                    factory=lambda ctx: UserFeedActor(
                        context=ctx, venue=link, executor=ctx.system.address("bot/executor")
                    ),
                ),
            ],
            wiring=WIRING.only(CHILDREN),
        ),
        config=config,
    )
    bot = TradingBot(
        system=system, clock=clock, sim=sim, journal_path=journal_path, control=control,
        symbol=symbol, mark=mark,
    )  # fmt: skip
    try:
        if ready:
            eventually(
                lambda: system.state("bot/executor").reconciled,
                timeout_s=10,
                what="the startup reconciliation",
            )
            bot.sample()
            bot.wait_state("active")
        yield bot
    finally:
        system.shutdown()
