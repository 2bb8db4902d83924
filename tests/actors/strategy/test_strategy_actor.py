"""StrategyActor in a small tree: scripted samples in, intents to a recording risk out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from perpsbot.actors.strategy.strategy import StrategyActor
from perpsbot.bot import WIRING
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    IntentPurpose,
    OrderDenied,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionChanged,
    PositionView,
    RiskSnapshot,
    Side,
    Signal,
    SignalsEvaluated,
    TradingState,
    TradingStateChanged,
    TransitionSource,
)
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from tests.actors.trading import (
    D,
    all_of_type,
    bot_config,
    of_type,
    products,
    recorder_spec,
    sample,
    sampled,
)
from tests.runtime.conftest import Crash

FLAT = [100, 100, 100, 100]
BULLISH = [*FLAT, 101]
TTL_NS = 30 * 10**9


class CrashableStrategy(StrategyActor):
    def on_receive(self, message: Any) -> None:
        if isinstance(message, Crash):
            raise message.error
        super().on_receive(message)


@attrs.define
class Strategy:
    system: ActorSystem
    clock: FakeClock
    risk: Probe = attrs.field(factory=Probe)
    reporter: Probe = attrs.field(factory=Probe)
    cycle: int = 0

    @property
    def address(self) -> Any:
        return self.system.address("bot/strategy")

    def start(self, config: BotConfig | None = None) -> None:
        def build(ctx: ActorContext) -> StrategyActor:
            address = ctx.system.address
            return CrashableStrategy(
                context=ctx,
                risk=address("bot/risk"),
            )

        children = [
            recorder_spec("risk", self.risk),
            recorder_spec("reporter", self.reporter),
            ChildSpec(
                name="strategy",
                factory=build,
                config_sections={"strategy"},
                live_sections={"strategy"},
            ),
        ]
        self.system.start(
            SupervisorSpec(
                name="bot", children=children, wiring=WIRING.only({"risk", "reporter", "strategy"})
            ),
            config=config or bot_config(),
        )
        self.address.tell(products())
        self.address.tell(risk_snapshot(TradingState.ACTIVE))

    def sample(self, *window: int | str, stale: bool = False) -> SignalsEvaluated:
        """Tell one sample of ``window`` and return what the strategy made of it."""
        self.cycle += 1
        cycle = self.cycle
        ts_ns = self.clock.time_ns()
        self.address.tell(sampled(cycle, sample(window, stale=stale), ts_ns=ts_ns))
        return of_type(self.reporter, SignalsEvaluated, lambda m: m.cycle == cycle)

    def intents(self, count: int) -> list[OrderIntent]:
        """Wait until risk was told ``count`` intents; return every intent told so far (once
        the strategy and risk handled what came before, so an extra intent shows)."""
        wait_drained(self.address)
        wait_drained(self.system.address("bot/risk"))
        self.risk.wait_for(
            lambda events: len([e for e in events if isinstance(e, OrderIntent)]) >= count,
            what=f"{count} intents",
        )
        return all_of_type(self.risk, OrderIntent)


def risk_snapshot(
    state: TradingState, *positions: PositionView, equity: int = 10_000
) -> RiskSnapshot:
    return RiskSnapshot(
        message_id="rs",
        ts_created_ns=0,
        cycle=0,
        state=state,
        reasons=(),
        equity=D(equity),
        realized_pnl=D(0),
        unrealized_pnl=D(0),
        daily_pnl=D(0),
        exposure=D(0),
        positions=positions,
    )


def view(quantity: int | str, entry: int | str | None = None) -> PositionView:
    return PositionView(
        symbol="BTC-USD",
        quantity=D(quantity),
        average_entry_price=None if entry is None else D(entry),
        contract_size=D(1),
        mark=None,
        realized_pnl=D(0),
        unrealized_pnl=D(0),
        fees=D(0),
        funding=D(0),
    )


def position_changed(quantity: int | str, entry_fill_price: int | str) -> PositionChanged:
    return PositionChanged(
        message_id="pc",
        ts_created_ns=0,
        correlation_id=None,
        position=view(quantity, entry_fill_price),
        cause="fill",
        entry_fill_price=D(entry_fill_price),
    )


@pytest.fixture
def strategy(system: ActorSystem, clock: FakeClock) -> Strategy:
    return Strategy(system, clock)


def test_a_cross_becomes_one_intent_with_a_deterministic_id(strategy: Strategy) -> None:
    strategy.start()
    evaluated = strategy.sample(*BULLISH)
    (only,) = evaluated.signals
    assert (only.signal, only.action) == (Signal.BULLISH, "buy")
    (sent,) = strategy.intents(1)
    ts_ns = strategy.clock.time_ns()
    assert sent.intent_id == f"BTC-USD:entry:1:{ts_ns}" == only.intent_id
    assert sent.valid_until_ns == ts_ns + TTL_NS
    assert (sent.side, sent.size, sent.reference_mark) == (Side.BUY, D("4.95049504"), D(101))


def test_no_other_intent_while_one_is_pending_and_again_once_it_is_denied(
    strategy: Strategy,
) -> None:
    strategy.start()
    strategy.sample(*BULLISH)
    (first,) = strategy.intents(1)
    waiting = strategy.sample(*FLAT, 100, 101)  # a second cross
    assert waiting.signals[0].reason == f"waiting for intent {first.intent_id}"
    strategy.address.tell(
        OrderDenied(
            message_id="d",
            ts_created_ns=0,
            correlation_id=first.message_id,
            intent_id=first.intent_id,
            symbol="BTC-USD",
            rule="max_order_usd",
            reason="too big",
        )
    )
    assert strategy.sample(*FLAT, 100, 100, 101).signals[0].action == "buy"
    assert len(strategy.intents(2)) == 2


def order_updated(intent_id: str, status: OrderStatus, filled: int | str = 0) -> OrderUpdated:
    return OrderUpdated(
        message_id=f"ou-{status}",
        ts_created_ns=0,
        correlation_id=intent_id,
        intent_id=intent_id,
        client_order_id=client_order_id(intent_id),
        venue_order_id=None,
        symbol="BTC-USD",
        side=Side.BUY,
        purpose=IntentPurpose.ENTRY,
        order_type=OrderType.MARKET,
        size=D(1),
        limit_price=None,
        filled_size=D(filled),
        average_fill_price=None,
        previous=None,
        status=status,
        source=TransitionSource.RECONCILIATION,
        booked_size=D(filled),
    )


def test_an_open_order_it_did_not_send_is_waited_for_like_its_own(strategy: Strategy) -> None:
    """An entry journaled by the process before a restart, sent after it: no second entry."""
    strategy.start()
    earlier = "BTC-USD:entry:7:123"
    strategy.address.tell(order_updated(earlier, OrderStatus.PENDING_SUBMIT))
    waiting = strategy.sample(*BULLISH)
    assert waiting.signals[0].reason == f"waiting for intent {earlier}"
    strategy.address.tell(order_updated(earlier, OrderStatus.CANCELLED))
    assert strategy.sample(*FLAT, 100, 101).signals[0].action == "buy"
    assert len(strategy.intents(1)) == 1


def test_an_unanswered_intent_is_forgotten_once_it_expired(strategy: Strategy) -> None:
    strategy.start()
    strategy.sample(*BULLISH)
    strategy.clock.advance(31.0)
    assert strategy.sample(*FLAT, 100, 101).signals[0].intent_id is not None
    assert len(strategy.intents(2)) == 2


def test_a_stale_sample_sends_nothing(strategy: Strategy) -> None:
    strategy.start()
    evaluated = strategy.sample(*BULLISH, stale=True)
    assert evaluated.signals[0].signal is Signal.STALE
    assert evaluated.signals[0].intent_id is None


def test_nothing_is_sent_before_risk_said_the_state(
    system: ActorSystem, clock: FakeClock, strategy: Strategy
) -> None:
    strategy.start()
    strategy.address.tell(risk_snapshot(TradingState.HALTED))
    assert strategy.sample(*BULLISH).signals[0].reason == "HALTED: no orders"
    strategy.address.tell(
        TradingStateChanged(
            message_id="s", ts_created_ns=0, state=TradingState.ACTIVE, previous=None, reason="ok"
        )
    )
    strategy.sample(*FLAT, 100, 101)
    assert len(strategy.intents(1)) == 1


LONGER = {"short_ma": 2, "long_ma": 6}
RISE = [100] * 7 + [101, 102, 103, 104, 105]  # a bullish cross at 101, then apart


def test_the_trailing_stop_is_seeded_at_the_fill_price(strategy: Strategy) -> None:
    strategy.start(bot_config(**LONGER))
    strategy.address.tell(position_changed(1, 101))
    # 99.98 is no cross, but it is below 1% under the fill price (99.99).
    closed = strategy.sample(*[100] * 7, 101, "99.98")
    assert (closed.signals[0].signal, closed.signals[0].action) == (Signal.NEUTRAL, "close")
    (exit_,) = strategy.intents(1)
    assert (exit_.side, exit_.size, exit_.reduce_only) == (Side.SELL, D(1), True)
    assert exit_.reason == "trailing stop: exit long, mark 99.98 vs stop 99.99 (peak 101)"


def test_the_trailing_stop_follows_the_peak_and_survives_a_restart(strategy: Strategy) -> None:
    strategy.start(bot_config(**LONGER))
    strategy.address.tell(position_changed(1, 101))
    assert strategy.sample(*RISE).signals[0].action == "hold"  # peak 105: stop 103.95
    strategy.address.tell(Crash(RuntimeError("strategy crashed")))
    eventually(lambda: strategy.address.incarnation == 2, what="strategy restarted")
    assert strategy.sample(*RISE, "103.96").signals[0].action == "hold"
    closed = strategy.sample(*RISE, "103.96", "103.95")
    assert closed.signals[0].action == "close"
    assert "stop 103.95 (peak 105)" in closed.signals[0].reason


@pytest.fixture
def clock() -> FakeClock:
    """Thursday 2026-01-01, 00:00 UTC."""
    return FakeClock(wall_start_ns=int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 10**9)


def test_outside_the_trading_window_no_entry_while_samples_keep_being_read(
    strategy: Strategy,
) -> None:
    strategy.start(
        bot_config(
            strategy={
                "trading_days": ("thu",),
                "trading_start_utc": "09:00",
                "trading_end_utc": "17:00",
            }
        )
    )
    evaluated = strategy.sample(*BULLISH)
    assert evaluated.signals[0].reason == "bullish cross outside the trading window"
    strategy.clock.advance(9 * 3600.0)
    strategy.sample(*FLAT, 100, 101)
    assert len(strategy.intents(1)) == 1


def test_an_overnight_window_allows_entries_after_midnight(strategy: Strategy) -> None:
    strategy.start(
        bot_config(
            strategy={
                "trading_days": ("wed",),
                "trading_start_utc": "22:00",
                "trading_end_utc": "02:00",
            }
        )
    )
    strategy.sample(*BULLISH)  # Thursday 00:00 belongs to Wednesday's session
    assert len(strategy.intents(1)) == 1


def test_an_exit_happens_outside_the_trading_window(strategy: Strategy) -> None:
    strategy.start(bot_config(strategy={"trading_days": ("mon",)}))
    strategy.address.tell(position_changed(2, 100))
    strategy.sample(100, 100, 100, 100, 99)
    (exit_,) = strategy.intents(1)
    assert (exit_.side, exit_.size) == (Side.SELL, D(2))


def test_reducing_closes_on_an_exit_signal_but_never_enters(strategy: Strategy) -> None:
    strategy.start()
    strategy.address.tell(risk_snapshot(TradingState.REDUCING))
    assert strategy.sample(*BULLISH).signals[0].reason == "REDUCING: no entries"
    strategy.address.tell(position_changed(1, 100))
    strategy.sample(100, 100, 100, 100, 100, 99)
    (exit_,) = strategy.intents(1)
    assert exit_.side is Side.SELL


def test_a_new_stop_percentage_applies_to_open_stops_live(strategy: Strategy) -> None:
    config = bot_config(**LONGER)
    strategy.start(config)
    strategy.address.tell(position_changed(1, 101))
    assert strategy.sample(*RISE).signals[0].action == "hold"  # peak 105
    wider = attrs.evolve(config.strategy, trailing_stop_pct=D("0.05"))
    plan = strategy.system.reload(attrs.evolve(config, strategy=wider))
    assert plan.notified == ("bot/strategy",)
    # At 1% the stop was 103.95; at 5% it is 99.75 and 101 holds.
    held = strategy.sample(*RISE, 101).signals[0]
    assert (held.signal, held.action) == (Signal.NEUTRAL, "hold")
    assert "stop 99.75 (peak 105)" in held.reason
    assert strategy.address.incarnation == 1
