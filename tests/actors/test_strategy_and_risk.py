"""Strategy, risk and the portfolio together, with a recording executor: a cross becomes an
order, its fill a position with a stop at the fill price, and a fall an exit order."""

from __future__ import annotations

from typing import Any

from perpsbot.actors.portfolio.portfolio import PortfolioActor
from perpsbot.actors.risk.risk import RiskActor, risk_mailbox
from perpsbot.actors.strategy.strategy import StrategyActor
from perpsbot.bot import WIRING
from perpsbot.messages import (
    IntentPurpose,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PlaceOrder,
    PositionChanged,
    RiskSnapshot,
    Side,
    SignalsEvaluated,
    TradingStateChanged,
    TransitionSource,
)
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.actors.trading import (
    D,
    account,
    bot_config,
    fill,
    of_type,
    products,
    reconciled,
    recorder_spec,
    sample,
    sampled,
)

CONFIG = bot_config(short_ma=2, long_ma=6)
FLAT = [100] * 7


def start(system: ActorSystem, executor: Probe, reporter: Probe) -> tuple[Any, Any, Any]:
    def portfolio(ctx: ActorContext) -> PortfolioActor:
        return PortfolioActor(context=ctx)

    def risk(ctx: ActorContext) -> RiskActor:
        address = ctx.system.address
        return RiskActor(
            context=ctx,
            executor=address("bot/executor"),
            journal=address("bot/journal"),
            watch=["bot/executor"],
        )

    def strategy(ctx: ActorContext) -> StrategyActor:
        address = ctx.system.address
        return StrategyActor(context=ctx, risk=address("bot/risk"))

    children = [
        recorder_spec("journal", Probe()),
        ChildSpec(name="portfolio", factory=portfolio),
        ChildSpec(name="risk", factory=risk, mailbox=risk_mailbox),
        recorder_spec("executor", executor),
        ChildSpec(name="strategy", factory=strategy),
        recorder_spec("reporter", reporter),
    ]
    # Wired as the bot is: recorders stand in for the journal, the executor and the reporter.
    wiring = WIRING.only({child.name for child in children})
    system.start(SupervisorSpec(name="bot", children=children, wiring=wiring), config=CONFIG)
    address = system.address
    return address("bot/portfolio"), address("bot/risk"), address("bot/strategy")


def updated(place: PlaceOrder, status: OrderStatus, filled: str) -> OrderUpdated:
    order = place.intent
    return OrderUpdated(
        message_id=f"u-{status}",
        ts_created_ns=0,
        correlation_id=place.message_id,
        intent_id=order.intent_id,
        client_order_id="pb-1",
        venue_order_id="v-1",
        symbol=order.symbol,
        side=order.side,
        purpose=order.purpose,
        order_type=OrderType.MARKET,
        size=order.size,
        limit_price=None,
        filled_size=D(filled),
        average_fill_price=D(101),
        previous=OrderStatus.ACKNOWLEDGED,
        status=status,
        source=TransitionSource.USER_CHANNEL,
        booked_size=D(filled) if status.terminal else D(0),
    )


def test_a_cross_is_placed_filled_and_closed_by_the_stop_at_the_fill_price(
    system: ActorSystem,
) -> None:
    executor, reporter = Probe(), Probe()
    portfolio, risk, strategy = start(system, executor, reporter)
    # Risk holds trading HALTED until the journal answered for the operator's last command.
    of_type(reporter, TradingStateChanged, lambda m: m.reason.startswith("operator state"))

    def marks(cycle: int, *window: int | str) -> None:  # what the mark window publishes
        message = sampled(cycle, sample(window), ts_ns=system.clock.time_ns())
        for actor in (portfolio, risk, strategy):
            actor.tell(message)

    for actor in (risk, strategy):
        actor.tell(products())
    risk.tell(reconciled())
    portfolio.tell(account(10_000))
    marks(1, *FLAT)
    of_type(reporter, RiskSnapshot, lambda m: m.cycle == 1 and m.state == "active")

    marks(2, *FLAT, 101)
    entry = of_type(executor, PlaceOrder)
    assert (entry.intent.side, entry.intent.purpose) == (Side.BUY, IntentPurpose.ENTRY)
    assert entry.intent.size == D("4.95049504")  # 5% of 10,000 USD at 101
    assert entry.checked_mark == D(101)

    size = str(entry.intent.size)
    portfolio.tell(fill(Side.BUY, size, 101, intent_id=entry.intent.intent_id))
    for actor in (risk, strategy):
        actor.tell(updated(entry, OrderStatus.FILLED, size))
    opened = of_type(reporter, PositionChanged)
    assert (opened.position.quantity, opened.entry_fill_price) == (D(size), D(101))

    # No cross, but 99.98 is more than 1% below the fill price.
    marks(3, *FLAT, 101, "99.98")
    exit_ = of_type(executor, PlaceOrder, lambda m: m.intent.purpose is IntentPurpose.EXIT)
    assert (exit_.intent.side, exit_.intent.size) == (Side.SELL, D(size))
    assert "trailing stop" in exit_.intent.reason
    evaluated = of_type(reporter, SignalsEvaluated, lambda m: m.cycle == 3)
    assert evaluated.signals[0].intent_id == exit_.intent.intent_id
