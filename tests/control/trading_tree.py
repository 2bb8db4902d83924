"""The trading actors (journal, risk, executor: the real ones) on the loopback exchange, with
the bot's control plane model on top, for the control plane's trading tests.

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
    RiskActor,
    executor_mailbox,
    journal_mailbox,
    risk_mailbox,
)
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig
from perpsbot.control import BotControl, BotOperator
from perpsbot.ids import SequentialIds
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    AccountReconciled,
    DryRunOrder,
    FundingPaid,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderUpdated,
    PositionChanged,
    ProductsLoaded,
    ReconciliationCompleted,
    ReconciliationStarted,
    RiskSnapshot,
    TradingStateChanged,
)
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from tests.actors.executor_harness import make_intent
from tests.actors.trading import sample, sampled
from tests.support.sim_clients import venue_link

SYMBOL = "BTC-USD"
MARK = "68923.67"  # the exchange's start price for BTC-USD

#: Who hears what (the wiring of TRADING.md, without strategy, marks and reporter).
RISK_TO_EXECUTOR = (TradingStateChanged, PositionChanged)
RISK_TO_JOURNAL = (TradingStateChanged, PositionChanged, RiskSnapshot, OrderDenied)
EXECUTOR_TO_RISK = (
    OrderUpdated, OrderFilled, DryRunOrder, ProductsLoaded, ReconciliationStarted,
    ReconciliationCompleted, AccountReconciled, FundingPaid,
)  # fmt: skip
EXECUTOR_TO_JOURNAL = (
    OrderUpdated, OrderFilled, DryRunOrder, OrderDenied, ReconciliationStarted,
    ReconciliationCompleted, AccountReconciled, FundingPaid,
)  # fmt: skip


@attrs.define
class TradingBot:
    system: ActorSystem
    clock: FakeClock
    sim: SimExchange
    journal_path: Path
    control: BotControl
    _cycle: int = 0
    _intents: int = 0

    def ops(self, who: str = "tester") -> BotOperator:
        return self.control.operator(who)

    def sample(self, mark: str = MARK, *, age_s: float = 0.5) -> None:
        """One sampling cycle for risk: a mark of BTC-USD received ``age_s`` ago (risk holds
        trading at REDUCING past ``risk.max_mark_age_s``, 30 s)."""
        self._cycle += 1
        self.system.address("bot/risk").tell(
            sampled(self._cycle, sample([mark] * 3, age_s=age_s), ts_ns=self.clock.time_ns())
        )

    def intent(self, **details: Any) -> OrderIntent:
        """Tell risk an intent (what the strategy does), priced at the exchange's mark."""
        self._intents += 1
        made = make_intent(self.clock, f"t-{self._intents}", mark=MARK, **details)
        self.system.address("bot/risk").tell(made)
        return made

    def risk(self) -> dict[str, Any]:
        state: dict[str, Any] = self.system.state("bot/risk")
        return state

    def wait_state(self, state: str) -> None:
        eventually(lambda: self.risk()["state"] == state, timeout_s=10, what=f"trading {state}")

    def reader(self) -> JournalReader:
        return JournalReader(self.journal_path)


@contextlib.contextmanager
def trading_bot(
    sim: SimExchange, journal_path: Path, *, ready: bool = True
) -> Iterator[TradingBot]:
    """Start journal, risk and executor; return once the executor reconciled with the
    exchange and risk, given a fresh mark, trades (ACTIVE), or at once if not ``ready``."""
    clock = FakeClock()
    link = venue_link(sim, clock)
    config = BotConfig(
        journal=JournalConfig(path=journal_path),
        market_data=MarketDataConfig(symbols=(SYMBOL,)),
    )

    def risk(ctx: ActorContext) -> RiskActor:
        address = ctx.system.address
        executor, journal = address("bot/executor"), address("bot/journal")
        return RiskActor(
            context=ctx,
            executor=executor,
            journal=journal,
            subscribers=[(kind, executor) for kind in RISK_TO_EXECUTOR]
            + [(kind, journal) for kind in RISK_TO_JOURNAL],
            watch=["bot/executor"],
            open_journal=lambda: JournalReader(journal_path),
        )

    def executor(ctx: ActorContext) -> ExecutorActor:
        address = ctx.system.address
        risk, journal = address("bot/risk"), address("bot/journal")
        return ExecutorActor(
            context=ctx,
            venue=link,
            journal=journal,
            journal_view=lambda: JournalReader(journal_path),
            subscribers=[(kind, risk) for kind in EXECUTOR_TO_RISK]
            + [(kind, journal) for kind in EXECUTOR_TO_JOURNAL],
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
                ChildSpec(name="risk", factory=risk, mailbox=risk_mailbox),
                ChildSpec(
                    name="executor",
                    factory=executor,
                    mailbox=lambda: executor_mailbox(config.execution.max_pending_orders),
                ),
            ],
        ),
        config=config,
    )
    bot = TradingBot(
        system=system, clock=clock, sim=sim, journal_path=journal_path, control=control
    )
    try:
        if ready:
            eventually(
                lambda: system.state("bot/executor")["reconciled"],
                timeout_s=10,
                what="the startup reconciliation",
            )
            bot.sample()
            bot.wait_state("active")
        yield bot
    finally:
        system.shutdown()
