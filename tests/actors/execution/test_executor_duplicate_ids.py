"""The executor on a venue that refuses a reused client_order_id (``reject``) instead of
returning the existing order: an order whose answer was lost and that reconciliation sends
again ends as the venue's one order, never REJECTED.

Only public behaviour: the orders it is told to place, the updates it publishes, the venue's
orders. The exchange runs on the test's clock, so its order list shows the order only when
the test moves that clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import OrderStatus, TradingState
from perpsbot.runtime.testing import wait_drained
from perpsbot.sim import DuplicateClientOrderId, SimConfig, SimExchange
from tests.actors.execution.executor_harness import Harness, running, start_executor

S = OrderStatus
HIDDEN_S = 5.0  # the venue's list shows a new order this long after it was created


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def refusing_sim(clock: FakeClock) -> Iterator[SimExchange]:
    config = SimConfig(
        verify_auth=False,
        tick_interval_s=None,
        seed=5,
        duplicate_client_order_id=DuplicateClientOrderId.REJECT,
    )
    with SimExchange(config, clock=clock) as sim:
        yield sim


@pytest.fixture
def bot(refusing_sim: SimExchange, clock: FakeClock, tmp_path: Path) -> Iterator[Harness]:
    # No user channel: only REST and reconciliation can tell the executor what became of it.
    harness = start_executor(refusing_sim, tmp_path / "j.sqlite3", clock=clock, user_channel=False)
    with running(harness):
        yield harness


def test_an_unknown_order_resent_to_a_venue_that_refuses_duplicates_ends_filled(
    bot: Harness,
) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(HIDDEN_S)
    bot.sim.faults.lose_order_ack(1000)  # every answer to a create is lost ...
    bot.place(bot.intent("refused-dup"))
    coid = client_order_id("refused-dup")
    bot.wait_status(coid, S.UNKNOWN)
    wait_drained(bot.executor)
    bot.sim.faults.clear()  # ... until now; the order stays hidden until HIDDEN_S has passed

    # The in-flight reconciliation does not see the order yet, so it sends it again: the
    # venue refuses the reused id as a duplicate.
    bot.clock.advance(2.0)
    bot.wait_reconciled(2)
    wait_drained(bot.executor)
    assert S.REJECTED not in bot.statuses(coid)

    bot.clock.advance(HIDDEN_S)  # now listed: the next reconciliation finds it
    filled = bot.wait_status(coid, S.FILLED)
    assert S.REJECTED not in bot.statuses(coid)
    (order,) = bot.venue_orders("refused-dup")
    assert order.order_id == filled.venue_order_id
