"""A small tree around the real RiskActor and PortfolioActor: recording executor, journal and
subscriber, wired as the bot wires them (``WIRING``) plus the subscriber, told what risk and
the portfolio publish. :meth:`Tree.tell` sends a message where the bot's wiring would: fills
to the portfolio, samples and the venue's account to both, everything else to risk."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from perpsbot.actors.portfolio.portfolio import PortfolioActor
from perpsbot.actors.risk.risk import RiskActor, risk_mailbox
from perpsbot.bot import WIRING
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig
from perpsbot.messages import (
    AccountReconciled,
    MarksSampled,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    PlaceOrder,
    PortfolioValued,
    PositionChanged,
    RiskSnapshot,
    TradingState,
    TradingStateChanged,
)
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec, Wiring
from perpsbot.runtime.testing import Probe
from tests.actors.trading import (
    account,
    all_of_type,
    of_type,
    products,
    reconciled,
    recorder_spec,
    sample,
    sampled,
)
from tests.runtime.conftest import Crash

ACTIVE = TradingState.ACTIVE
PUBLISHED = (TradingStateChanged, RiskSnapshot, OrderDenied)
BOOKED = (PositionChanged, PortfolioValued)  # the portfolio's, told to risk and the subscriber
#: The bot's wiring among this tree's children, and the subscriber told what the two publish.
TREE_WIRING = WIRING.only({"journal", "portfolio", "risk", "executor"}).plus(
    Wiring.of(
        {
            "risk": {kind: ("subscriber",) for kind in PUBLISHED},
            "portfolio": {kind: ("subscriber",) for kind in BOOKED},
        }
    )
)


class CrashableRisk(RiskActor):
    """The real actor, plus a way for a test to make a handler raise."""

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Crash):
            raise message.error
        return super().on_receive(message)


@attrs.define
class Tree:
    system: ActorSystem
    clock: FakeClock
    executor: Probe = attrs.field(factory=Probe)
    journal: Probe = attrs.field(factory=Probe)
    published: Probe = attrs.field(factory=Probe)

    @property
    def risk(self) -> Any:
        return self.system.address("bot/risk")

    @property
    def portfolio(self) -> Any:
        return self.system.address("bot/portfolio")

    def tell(self, message: Any) -> None:
        """Tell ``message`` to whom the bot's wiring tells it."""
        if isinstance(message, OrderFilled | AccountReconciled | MarksSampled):
            self.portfolio.tell(message)
        if not isinstance(message, OrderFilled):
            self.risk.tell(message)

    def start(
        self,
        config: BotConfig,
        *,
        journal: Any = None,
        executor_mailbox: Any = None,
    ) -> None:
        def build(ctx: ActorContext) -> RiskActor:
            address = ctx.system.address
            return CrashableRisk(
                context=ctx,
                executor=address("bot/executor"),
                journal=address("bot/journal"),
                watch=["bot/executor"],
            )

        def portfolio(ctx: ActorContext) -> PortfolioActor:
            address = ctx.system.address
            return PortfolioActor(
                context=ctx,
                # With a real journal the portfolio reads its book back from it.
                journal=None if journal is None else address("bot/journal"),
            )

        executor: dict[str, Any] = {} if executor_mailbox is None else {"mailbox": executor_mailbox}
        children = [
            ChildSpec(name="journal", factory=journal)
            if journal is not None
            else recorder_spec("journal", self.journal),
            recorder_spec("subscriber", self.published),
            ChildSpec(name="portfolio", factory=portfolio),
            ChildSpec(
                name="risk",
                factory=build,
                mailbox=risk_mailbox,
                config_sections={"risk"},
                live_sections={"risk"},
            ),
            recorder_spec("executor", self.executor, **executor),
        ]
        spec = SupervisorSpec(name="bot", children=children, wiring=TREE_WIRING)
        self.system.start(spec, config=config)
        # Risk holds trading HALTED until the journal answered for the operator's last
        # command: a test starts from the state that answer leaves.
        of_type(
            self.published,
            TradingStateChanged,
            lambda m: m.reason in ("operator state read from the journal", "journal unreadable"),
        )

    def state(self, state: TradingState) -> TradingStateChanged:
        """Wait until the latest published state is ``state``; return that change."""

        def latest_is(events: list[Any]) -> bool:
            changes = [e for e in events if isinstance(e, TradingStateChanged)]
            return bool(changes) and changes[-1].state is state

        self.published.wait_for(latest_is, what=f"trading {state}")
        return all_of_type(self.published, TradingStateChanged)[-1]

    def snapshot(self, cycle: int, *window: int | str) -> RiskSnapshot:
        """Sample fresh marks and return the snapshot risk publishes for them: everything
        told before was handled by then."""
        self.tell(sampled(cycle, sample(window or [100])))
        return of_type(self.published, RiskSnapshot, lambda m: m.cycle == cycle)

    def activate(self, mark: int = 100, equity: int = 10_000) -> None:
        """Everything clean: products, a successful reconciliation, equity and a fresh mark."""
        self.tell(products())
        self.tell(reconciled())
        self.tell(account(equity))
        self.tell(sampled(1, sample([mark])))
        # Cycle 1's snapshot (its valuation holds the equity: the portfolio took the account
        # first), then trading: both were told to risk before any later intent.
        of_type(self.published, RiskSnapshot, lambda m: m.cycle == 1 and m.equity == equity)
        self.state(ACTIVE)

    def place(self, order: OrderIntent) -> PlaceOrder:
        self.risk.tell(order)
        return of_type(self.executor, PlaceOrder, lambda m: m.intent == order)

    def denied(self, order: OrderIntent) -> OrderDenied:
        self.risk.tell(order)
        return of_type(self.published, OrderDenied, lambda m: m.intent_id == order.intent_id)


@pytest.fixture
def tree(system: ActorSystem, clock: FakeClock) -> Tree:
    return Tree(system, clock)
