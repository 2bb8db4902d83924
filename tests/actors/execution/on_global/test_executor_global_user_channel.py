"""The executor on the Global Derivatives venue follows its orders and learns their fills from
the user channels the user-feed actor runs on a trading socket (``user.orders``,
``user.trades``); polls stay the fallback, and a dropped socket makes it poll, then reconcile.

The test's clock never moves here unless said: the executor's poll timer never fires, so
whatever it learns, it learns from the stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.actors import UserFeedState
from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    OrderFilled,
    OrderStatus,
    PositionChanged,
    ReconciliationCompleted,
    TimeInForce,
    TradingState,
)
from perpsbot.runtime.testing import eventually, wait_drained
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from tests.actors.execution.executor_harness import PERP, Harness, running, start_executor
from tests.actors.execution.global_venue import GLOBAL_BTC, GlobalSource


@pytest.fixture
def bot(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> Iterator[Harness]:
    harness = start_executor(
        sim, tmp_path / "j.sqlite3", clock=clock, symbols=(GLOBAL_BTC,), user_channel=False,
        gateways=source, user_channels=source.user_channel,
    )  # fmt: skip
    with running(harness):
        yield harness


def _channel(bot: Harness) -> UserFeedState:
    state: UserFeedState = bot.system.state("bot/userfeed")
    return state


def _healthy(bot: Harness) -> bool:
    channel = _channel(bot).channel
    return channel is not None and channel.healthy


def _buy_filled_from_the_stream(bot: Harness, intent_id: str) -> list[OrderFilled]:
    bot.place(bot.intent(intent_id, symbol=GLOBAL_BTC, size="2"))
    coid = client_order_id(intent_id)
    bot.wait_status(coid, OrderStatus.FILLED)
    bot.wait(
        lambda _: sum(f.size for f in bot.of(OrderFilled) if f.client_order_id == coid) == 2,
        f"the fills of {coid}",
    )
    return [f for f in bot.of(OrderFilled) if f.client_order_id == coid]


def test_the_executor_learns_an_orders_state_and_fills_from_the_user_channels_not_polls(
    bot: Harness,
) -> None:
    eventually(lambda: _healthy(bot), what="the user channels subscribed")
    bot.trading(TradingState.ACTIVE)
    fills = _buy_filled_from_the_stream(bot, "streamed")
    state = bot.state()
    assert state.polls == 0
    assert state.fills_streamed == len(fills)  # every fill from user.trades, none read by REST
    journaled = bot.journaled(client_order_id("streamed"), OrderStatus.FILLED)
    assert journaled.filled_size == Decimal(2)


def test_a_dropped_trading_socket_makes_the_executor_reconcile_then_follow_the_stream_again(
    bot: Harness, gateway: SimGlobalGateway
) -> None:
    eventually(lambda: _healthy(bot), what="the user channels subscribed")
    passes = len(bot.of(ReconciliationCompleted))
    gateway.faults.drop_connections()
    bot.wait_reconciled(passes + 1)  # asked for by the channel once it is back
    eventually(lambda: _healthy(bot), what="the user channels subscribed again")
    channel = _channel(bot).channel
    assert channel is not None
    assert channel.times_unhealthy == 1
    bot.trading(TradingState.ACTIVE)
    fills = _buy_filled_from_the_stream(bot, "after-the-drop")
    assert bot.state().fills_streamed == len(fills)


def test_a_strangers_order_on_the_stream_carrying_our_label_is_never_taken_for_ours(
    bot: Harness, gateway: SimGlobalGateway, source: GlobalSource
) -> None:
    eventually(lambda: _healthy(bot), what="the user channels subscribed")
    bot.trading(TradingState.ACTIVE)
    # Our order's answer is lost, and a stranger's order carrying its label comes first: the
    # stream reports both by that label before the executor knows which one is ours.
    gateway.faults.duplicate_labels(count=1, contracts=1)
    gateway.faults.lose_answers(1)
    bot.place(bot.intent("twin", symbol=GLOBAL_BTC, size="2"))
    coid = client_order_id("twin")
    bot.wait_status(coid, OrderStatus.UNKNOWN)

    def settled() -> bool:
        bot.clock.advance(1.0)  # the reconciliation the stream asked for, then its lookups
        wait_drained(bot.executor)
        return OrderStatus.FILLED in bot.statuses(coid)

    bot.until(settled, "the order found by its label and filled", timeout_s=30.0)
    (stranger,) = [o for o in source.orders(coid) if o.size == 1]
    assert stranger.venue_order_id not in {u.venue_order_id for u in bot.updates(coid)}
    bot.wait(
        lambda _: sum(f.size for f in bot.of(OrderFilled) if f.client_order_id == coid) == 2,
        "our order's fills",
    )
    assert sum(f.size for f in bot.of(OrderFilled) if f.client_order_id == coid) == 2


def test_a_restart_of_the_user_feed_alone_makes_the_executor_reconcile_and_book_a_gap_fill_once(
    bot: Harness, gateway: SimGlobalGateway, sim: SimExchange
) -> None:
    eventually(lambda: _healthy(bot), what="the user channels subscribed")
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("resting", symbol=GLOBAL_BTC, size="2", limit="60000",
                         tif=TimeInForce.GTC))  # fmt: skip
    coid = client_order_id("resting")
    bot.wait_status(coid, OrderStatus.ACKNOWLEDGED)
    passes = len(bot.of(ReconciliationCompleted))
    # The new incarnation's channel cannot subscribe until the test lets it: the gap.
    gateway.faults.refuse_method("private/subscribe", count=10**6)
    sessions = gateway.auth_count
    bot.system.fail("bot/userfeed", "drill")
    eventually(lambda: not bot.state().user_feed_healthy, what="the executor told it is down")
    # Two sessions of the new channel: its first subscribe was refused, it reconnected.
    eventually(lambda: gateway.auth_count >= sessions + 2, what="a refused subscription")
    sim.step_to({PERP: Decimal(59_000)})  # our buy fills at the venue; no channel reports it
    assert OrderStatus.FILLED not in bot.statuses(coid)
    gateway.faults.clear()
    bot.wait_reconciled(passes + 1)  # once the new connection is healthy
    bot.wait_status(coid, OrderStatus.FILLED)
    bot.wait(
        lambda _: sum(f.size for f in bot.of(OrderFilled) if f.client_order_id == coid) == 2,
        "the gap's fills booked",
    )
    wait_drained(bot.executor)
    assert sum(f.size for f in bot.of(OrderFilled) if f.client_order_id == coid) == 2
    booked = [p for p in bot.of(PositionChanged) if p.position.symbol == GLOBAL_BTC]
    assert booked[-1].position.quantity == 2  # booked once, not once per path that saw it
