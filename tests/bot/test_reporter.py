"""The console reporter: what the operator of ``perpsbot run`` reads, one event per line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.actors import StreamerActor, streamer_mailbox
from perpsbot.bot import WIRING, ConsoleReporter, positions_left
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    AccountReconciled,
    FeedState,
    FeedStatusChanged,
    FuturesAccount,
    IntentPurpose,
    MarginRates,
    MarketDataResumed,
    OrderFilled,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PendingMark,
    PositionView,
    RiskSnapshot,
    Side,
    Signal,
    SignalsEvaluated,
    SymbolSignal,
    TradingState,
    TradingStateChanged,
    TransitionSource,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ActorSystem,
    ChildSpec,
    Coalescer,
    SupervisorSpec,
)
from perpsbot.runtime.testing import eventually, wait_drained, wait_idle
from perpsbot.venue import VenueLink, VenueRateLimiter
from tests.actors.trading import future, products, sample, sampled, spot

D = Decimal
COID = "pb-0123456789abcdef0123456789abcdef"


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def reporter(out: io.StringIO) -> Iterator[ActorAddress]:
    system = ActorSystem("t", clock=FakeClock(), ids=SequentialIds("r"), watchdog_interval_s=None)
    child = ChildSpec(name="reporter", factory=lambda ctx: ConsoleReporter(context=ctx, out=out))
    system.start(SupervisorSpec(name="bot", children=[child]))
    yield system.address("bot/reporter")
    system.shutdown()


def printed(out: io.StringIO, text: str) -> list[str]:
    """Wait until ``text`` was printed; return every line printed so far."""
    eventually(lambda: text in out.getvalue(), what=f"{text!r} printed")
    return out.getvalue().splitlines()


def _stamp(n: int = 0) -> dict[str, Any]:
    return {"message_id": f"m{n}", "ts_created_ns": 0}


def signals(cycle: int, signal: Signal, action: str) -> SignalsEvaluated:
    return SignalsEvaluated(
        **_stamp(cycle),
        cycle=cycle,
        signals=(SymbolSignal(symbol="BTC-USD", signal=signal, action=action, reason="test"),),
    )


def snapshot(cycle: int, *positions: PositionView) -> RiskSnapshot:
    return RiskSnapshot(
        **_stamp(cycle), cycle=cycle, state=TradingState.ACTIVE, reasons=(),
        equity=D("100012.5"), realized_pnl=D("-6.25"), unrealized_pnl=D("1.5"),
        daily_pnl=D("-4.75"), exposure=D(1000), positions=positions,
    )  # fmt: skip


def long_btc() -> PositionView:
    return PositionView(
        symbol="BTC-USD", quantity=D("0.0145"), average_entry_price=D("68900.123"),
        contract_size=D(1), mark=D(69000), realized_pnl=D(0), unrealized_pnl=D("1.5"),
        fees=D(6), funding=D("-0.25"),
    )  # fmt: skip


def update(status: OrderStatus, previous: OrderStatus | None, **changes: Any) -> OrderUpdated:
    fields: dict[str, Any] = {
        **_stamp(), "correlation_id": "c", "intent_id": "i", "client_order_id": COID,
        "venue_order_id": None, "symbol": "BTC-USD", "side": Side.BUY,
        "purpose": IntentPurpose.ENTRY, "order_type": OrderType.MARKET, "size": D("0.0145"),
        "limit_price": None, "filled_size": D(0), "average_fill_price": None,
        "previous": previous, "status": status, "source": TransitionSource.USER_CHANNEL,
    }  # fmt: skip
    return OrderUpdated(**{**fields, **changes})


def test_a_cycle_prints_marks_signals_positions_and_the_summary_once_all_arrived(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    reporter.tell(products(spot()))
    reporter.tell(FeedStatusChanged(**_stamp(), state=FeedState.SUBSCRIBED, detail="ok"))
    reporter.tell(sampled(7, sample(["68990.5", "69000"])))
    reporter.tell(signals(7, Signal.BULLISH, "buy"))
    reporter.tell(snapshot(7, long_btc()))

    lines = printed(out, "cycle 7:")
    cycle = lines[lines.index("cycle 7:") :]
    assert cycle[1].split() == [
        "BTC-USD", "mark", "69000.00", "window", "2", "source", "stream", "bullish", "buy",
        "long", "0.0145", "@", "68900.12", "upnl", "+1.50",
    ]  # fmt: skip
    assert cycle[2] == (
        "  equity 100,012.50 USD  leverage 0.01x  margin -  realized -6.25  unrealized +1.50"
        "  funding -0.25  today -4.75  state active  feed subscribed"
    )


def test_a_cycle_prints_whole_when_its_reading_arrives_before_its_marks(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    reporter.tell(products(spot()))
    reporter.tell(signals(4, Signal.BEARISH, "close"))  # the strategy was quicker
    reporter.tell(snapshot(4, long_btc()))
    reporter.tell(sampled(4, sample([100, 99])))

    lines = printed(out, "cycle 4:")
    assert "bearish close" in lines[1]
    assert "long 0.0145" in lines[1]
    assert lines[2].startswith("  equity 100,012.50 USD")


def test_a_complete_cycle_waits_for_the_products_to_print_its_marks_at_their_increment(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    reporter.tell(sampled(5, sample(["68990.5", "69000.5"])))
    reporter.tell(signals(5, Signal.NEUTRAL, "hold"))
    reporter.tell(snapshot(5))
    wait_drained(reporter)
    assert "cycle 5:" not in out.getvalue()  # a busy start: the executor has not loaded them
    reporter.tell(products(spot()))
    lines = printed(out, "cycle 5:")
    assert lines[1].split()[:3] == ["BTC-USD", "mark", "69000.50"]


def test_a_cycle_whose_reading_never_comes_still_prints_when_later_cycles_do(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    for cycle in (1, 2, 3):
        reporter.tell(sampled(cycle, sample([100])))
    lines = printed(out, "cycle 1:")
    assert lines[1].split()[-2:] == ["-", "flat"]
    assert lines[2].strip() == "(no risk snapshot)  feed connecting"
    assert "cycle 2:" not in lines  # still waiting for its signals and snapshot


def test_order_events_print_one_line_each_and_the_unanswered_states_none(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    reporter.tell(products(spot()))
    reporter.tell(update(OrderStatus.PENDING_SUBMIT, None))
    reporter.tell(update(OrderStatus.SUBMITTED, OrderStatus.PENDING_SUBMIT))
    reporter.tell(update(OrderStatus.ACKNOWLEDGED, OrderStatus.SUBMITTED, venue_order_id="v1"))
    reporter.tell(
        OrderFilled(
            **_stamp(), correlation_id="c", fill_id="f1", intent_id="i", client_order_id=COID,
            venue_order_id="v1", symbol="BTC-USD", side=Side.BUY, price=D("68900.1"),
            size=D("0.0145"), fee=D("5.994"), ts_event_ns=0,
        )
    )  # fmt: skip
    reporter.tell(
        update(
            OrderStatus.FILLED, OrderStatus.ACKNOWLEDGED, filled_size=D("0.0145"),
            average_fill_price=D("68900.1"),
        )
    )  # fmt: skip
    reporter.tell(
        TradingStateChanged(
            **_stamp(), state=TradingState.REDUCING, previous=TradingState.ACTIVE,
            reason="bot/executor is down", reasons=("bot/executor restarting",),
        )
    )  # fmt: skip

    lines = printed(out, "trading reducing")
    assert lines == [
        "order pb-012345678  buy 0.0145 BTC-USD market (entry): acknowledged",
        "fill  pb-012345678  buy 0.0145 BTC-USD @ 68900.10  fee 5.99",
        "order pb-012345678  buy 0.0145 BTC-USD market (entry): filled 0.0145 @ 68900.10",
        "trading reducing (bot/executor restarting), was active: bot/executor is down",
    ]


def test_a_short_future_prints_as_short_and_the_summary_shows_leverage_margin_and_funding(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    quarter = D("0.25")
    rates = MarginRates(
        intraday_long=quarter, intraday_short=quarter,
        overnight_long=quarter, overnight_short=quarter,
    )  # fmt: skip
    bip = "BIP-20DEC30-CDE"
    reporter.tell(products(future(bip, margin_rates=rates, price_increment=D(5))))
    account = FuturesAccount(buffer=D(9_000), threshold=D(1_000))
    reporter.tell(AccountReconciled(**_stamp(), equity=None, positions=(), futures=account))
    short = PositionView(
        symbol=bip, quantity=D(-2), average_entry_price=D(68_900), contract_size=D("0.01"),
        mark=D(68_800), realized_pnl=D(0), unrealized_pnl=D(2), fees=D("0.3"),
        funding=D("-1.25"),
    )  # fmt: skip
    reporter.tell(sampled(3, sample([68_800], symbol=bip)))
    reporter.tell(
        SignalsEvaluated(
            **_stamp(3), cycle=3,
            signals=(SymbolSignal(symbol=bip, signal=Signal.NEUTRAL, action="hold", reason="-"),),
        )
    )  # fmt: skip
    reporter.tell(attrs.evolve(snapshot(3, short), equity=D(6_880), exposure=D(1_376)))

    lines = printed(out, "cycle 3:")
    assert lines[1].endswith("  short 2 @ 68900  upnl +2.00"), lines[1]
    # 1,376 USD on 6,880 USD of equity; 2 x 0.01 x 68,800 x 0.25 = 344 USD of 10,000 funds.
    assert lines[2].startswith(
        "  equity 6,880.00 USD  leverage 0.20x  margin 3.4%  realized -6.25  unrealized +1.50"
        "  funding -1.25  today -4.75  state active"
    ), lines[2]


def _state(state: TradingState, previous: TradingState | None, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        **_stamp(), "state": state, "previous": previous, "reason": "test", "reasons": ("r",),
    }  # fmt: skip
    return TradingStateChanged(**{**fields, **changes})


def test_a_start_reads_holding_until_reconciliation_until_it_trades_or_is_halted(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    halted, reducing, active = TradingState.HALTED, TradingState.REDUCING, TradingState.ACTIVE
    reporter.tell(_state(halted, None, starting=True, reason="risk started"))
    reporter.tell(
        _state(reducing, halted, starting=True, reason="operator state read from the journal")
    )
    reporter.tell(_state(active, reducing, reasons=(), reason="reconciliation succeeded"))
    reporter.tell(
        _state(halted, active, reasons=("halted by alice: drill",), reason="halt by alice")
    )

    assert printed(out, "halt by alice") == [
        "trading holding until reconciliation (r): risk started",
        "trading active, was holding until reconciliation: reconciliation succeeded",
        "trading halted (halted by alice: drill), was active: halt by alice",
    ]


def test_an_operators_halt_read_at_a_start_reads_halted_not_holding(
    reporter: ActorAddress, out: io.StringIO
) -> None:
    halted = TradingState.HALTED
    reporter.tell(_state(halted, None, starting=True, reason="risk started"))
    reporter.tell(
        _state(halted, halted, reasons=("halted by alice: drill",), reason="journal read")
    )

    assert printed(out, "journal read")[-1] == (
        "trading halted (halted by alice: drill), was holding until reconciliation: journal read"
    )


def test_a_stop_lists_the_positions_it_leaves_with_their_unrealized_pnl() -> None:
    short = attrs.evolve(
        long_btc(), symbol="BIP-20DEC30-CDE", quantity=D(-2), average_entry_price=D(68_900),
        unrealized_pnl=D("-0.8"),
    )  # fmt: skip
    flat = attrs.evolve(long_btc(), symbol="ETH-USD", quantity=D(0))

    assert positions_left(snapshot(9, long_btc(), short, flat)).splitlines() == [
        "stopped, leaving 2 open positions:",
        "  BTC-USD            long 0.0145 @ 68900.123  upnl +1.50",
        "  BIP-20DEC30-CDE    short 2 @ 68900  upnl -0.80",
        "  unrealized +1.50  today -4.75 (journaled: the next start continues from it)",
    ]
    assert positions_left(snapshot(9, flat)) == ("stopped flat (no open positions); today -4.75")
    assert positions_left(None) == "stopped: no valuation of the book to report"


def test_a_restarted_reporter_shows_the_feed_as_the_streamer_has_it_and_marks_at_once(
    out: io.StringIO,
) -> None:
    clock = FakeClock()
    link = VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url="ws://127.0.0.1:9/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
    )
    # Streaming off: the streamer runs no feed; the events told to it here move its state.
    config = BotConfig(market_data=MarketDataConfig(symbols=("BTC-USD",), streaming=False))
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")

    def streamer(ctx: ActorContext) -> StreamerActor:
        return StreamerActor(context=ctx, venue=link, feed_marks=feed_marks)

    def reporter(ctx: ActorContext) -> ConsoleReporter:
        return ConsoleReporter(context=ctx, out=out)

    children = [
        ChildSpec(name="streamer", factory=streamer, mailbox=streamer_mailbox),
        ChildSpec(name="reporter", factory=reporter),
    ]
    with ActorSystem("t", clock=clock, ids=SequentialIds("r"), watchdog_interval_s=None) as system:
        spec = SupervisorSpec(
            name="bot", children=children, wiring=WIRING.only({"streamer", "reporter"})
        )
        system.start(spec, config=config)
        system.address("bot/streamer").tell(MarketDataResumed(**_stamp(), feed="market"))
        system.address("bot/reporter").tell(products(spot()))
        wait_idle(system)  # the reporter was told the feed is subscribed, and the increments
        system.fail("bot/reporter", "drill")  # as a crash of the poller restarts it
        wait_idle(system)
        assert system.address("bot/reporter").incarnation == 2

        for part in (sampled(3, sample([100])), signals(3, Signal.NEUTRAL, "hold"), snapshot(3)):
            system.address("bot/reporter").tell(part)
        wait_idle(system)

    lines = out.getvalue().splitlines()
    assert lines[-3:-2] == ["cycle 3:"]  # printed at once, not cycles later
    *_, marks, summary = lines
    assert marks.split()[:3] == ["BTC-USD", "mark", "100.00"]  # at its increment
    assert summary.endswith("  state active  feed subscribed")
