"""An order is not finished until its fills are booked: orders the venue may hold, filled,
while its lists do not show them yet are never settled as if they had not been sent.

Found by the stateful test's long run (a fill at the venue the journal never got, the
position fixed only by a reconciliation's correction). The exchange runs on the test's
clock, so its lists show an order only when the test moves that clock past the order's
visibility delay.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import OrderFilled, OrderStatus, TradingState
from perpsbot.runtime.testing import wait_drained
from perpsbot.sim import SimConfig, SimExchange
from tests.actors.execution.executor_harness import Harness, running, start_executor

S = OrderStatus
HIDDEN_S = 5.0  # the venue's lists show a new order this long after it was created


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed_sim(clock: FakeClock) -> Iterator[SimExchange]:
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=9)
    with SimExchange(config, clock=clock) as sim:
        yield sim


@pytest.fixture
def bot(timed_sim: SimExchange, clock: FakeClock, tmp_path: Path) -> Iterator[Harness]:
    # No user channel: only REST and reconciliation can tell the executor what became of it.
    harness = start_executor(timed_sim, tmp_path / "j.sqlite3", clock=clock, user_channel=False)
    with running(harness):
        yield harness


def _reconcile_for(bot: Harness, seconds: float, step_s: float = 2.0) -> None:
    """Let the executor's timers (polls, in-flight reconciliations) run for ``seconds``."""
    for _ in range(int(seconds / step_s)):
        bot.clock.advance(step_s)
        wait_drained(bot.executor)


def test_a_halt_never_settles_an_order_whose_create_answer_was_lost_as_never_sent(
    bot: Harness,
) -> None:
    # The venue created and filled the order, lost its answer, and hides it for a while; an
    # operator's halt asks for it to be cancelled. Settled CANCELLED "before it was sent",
    # its fill was never read, journaled or booked.
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(HIDDEN_S)
    bot.sim.faults.lose_order_ack(1000)
    bot.place(bot.intent("lost-answer"))
    coid = client_order_id("lost-answer")
    bot.wait_status(coid, S.UNKNOWN)
    wait_drained(bot.executor)
    bot.sim.faults.clear()  # the order stays hidden until HIDDEN_S has passed
    bot.trading(TradingState.HALTED)
    wait_drained(bot.executor)

    _reconcile_for(bot, 2 * HIDDEN_S)

    (venue_order,) = bot.venue_orders("lost-answer")
    assert venue_order.status == "FILLED"
    filled = bot.wait_status(coid, S.FILLED)
    assert S.CANCELLED not in bot.statuses(coid)
    assert filled.settled
    assert filled.booked_size == venue_order.filled_size
    assert [f.client_order_id for f in bot.of(OrderFilled)] == [coid]
    assert len(bot.venue_orders("lost-answer")) == 1  # looked for, never sent again
