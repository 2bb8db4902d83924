"""No fill is ever lost: reconciliation sweeps the venue's fills and books, in the portfolio,
those no order path published, superseding the correction that had adopted them.

Two orders leave their own path before the venue lists their fills: one acknowledged, then
hidden by the venue for longer than the executor waits (settled CANCELLED), and one whose
create answer was lost (settled EXPIRED after several lookups that did not find it). The
exchange runs on the test's clock, so its lists show an order only once the test moves that
clock past the order's visibility delay.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.actors.execution._sweep import FULL_READ_EVERY_NS
from perpsbot.actors.portfolio.portfolio import replay
from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import OrderStatus, PositionChanged, TradingState
from perpsbot.runtime.testing import wait_drained, wait_idle
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue.orders import MarketIoc, OrderRequest, OrderSide
from tests.actors.execution.executor_harness import PERP, Harness, running, start_executor

S = OrderStatus


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


def _run_for(bot: Harness, seconds: float, step_s: float) -> None:
    """Let the executor's timers (polls, reconciliations) run for ``seconds``."""
    for _ in range(int(seconds / step_s)):
        bot.clock.advance(step_s)
        # The portfolio's answer to each pass too: what it books is what the test reads.
        wait_idle(bot.system)


def _venue_position(bot: Harness) -> Decimal:
    held = {p.product_id: p.signed_contracts for p in bot.rest.cfm_positions()}
    return held.get(PERP, Decimal(0))


def _venue_fill_ids(bot: Harness, coid: str) -> set[str]:
    (order,) = [o for o in bot.rest.list_orders() if o.client_order_id == coid]
    return {f.entry_id for f in bot.rest.fills(order_ids=[order.order_id])}


def _journaled_fill_ids(bot: Harness, coid: str) -> set[str]:
    with bot.reader() as journal:
        return {f.fill_id for f in journal.fills(client_order_id=coid)}


def _journal_holds_the_venues_fills(bot: Harness, coid: str) -> None:
    venue = _venue_fill_ids(bot, coid)
    assert venue, f"the venue lists no fill of {coid}"
    bot.until(lambda: _journaled_fill_ids(bot, coid) == venue, f"the journal to hold {venue}")


def _positions(bot: Harness) -> list[Decimal]:
    """The portfolio's position in the perpetual, as every PositionChanged told it."""
    return [p.position.quantity for p in bot.of(PositionChanged) if p.position.symbol == PERP]


def test_an_acknowledged_order_settled_cancelled_while_hidden_has_its_later_fill_booked_once(
    bot: Harness,
) -> None:
    # The venue acknowledged the order, filled it and then hid it from its lists for longer
    # than the executor waits: settled CANCELLED, its fill was never read. The reconciliation
    # after that adopted the venue's position; the journal never got the fill.
    hidden_s = 20 * 60.0
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(hidden_s)
    bot.place(bot.intent("hidden", symbol=PERP, size="2"))
    coid = client_order_id("hidden")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    bot.sim.faults.clear()  # the order stays hidden until hidden_s has passed

    _run_for(bot, 18 * 60.0, step_s=30.0)
    assert bot.state().orders[coid] == "cancelled"  # settled while the venue hid it
    assert _journaled_fill_ids(bot, coid) == set()

    _run_for(bot, hidden_s, step_s=30.0)  # the venue shows it, FILLED, and its fill

    _journal_holds_the_venues_fills(bot, coid)
    assert _venue_position(bot) == Decimal(2)
    # Booked in the step that reversed the correction that had adopted it: never counted
    # twice, not even for one message.
    assert set(_positions(bot)) <= {Decimal(0), Decimal(2)}
    assert _positions(bot)[-1] == Decimal(2)
    assert bot.state().positions[PERP] == 2
    # A cold start rebuilds the same book from the journal: the fill, then the correction.
    wait_idle(bot.system)
    with bot.reader() as journal:
        replayed, _ = replay(journal.book_events())
    assert replayed.position(PERP).quantity == Decimal(2)


def test_a_fill_the_venue_lists_hours_late_is_booked_by_the_next_read_of_the_whole_window(
    bot: Harness,
) -> None:
    # Listed three hours after it traded: later than the passes between whole reads reach
    # back (an hour before the previous read), so only the next whole read finds it.
    hidden_s = 3 * 3600.0
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(hidden_s)
    bot.place(bot.intent("hidden-long", symbol=PERP, size="2"))
    coid = client_order_id("hidden-long")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    bot.sim.faults.clear()
    _run_for(bot, 18 * 60.0, step_s=30.0)
    assert bot.state().orders[coid] == "cancelled"

    _run_for(bot, hidden_s + 600.0, step_s=600.0)  # listed now; no whole read yet
    assert _journaled_fill_ids(bot, coid) == set()
    _run_for(bot, FULL_READ_EVERY_NS / 1e9 - hidden_s, step_s=600.0)

    _journal_holds_the_venues_fills(bot, coid)
    assert _positions(bot)[-1] == _venue_position(bot) == Decimal(2)


def _lost_answer_expired(bot: Harness, intent_id: str, hidden_s: float) -> str:
    """Place an order whose create answer is lost and which the venue hides for
    ``hidden_s``; an operator's halt keeps it from being sent again; run until it is settled
    EXPIRED after the lookups that did not find it."""
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(hidden_s)
    bot.sim.faults.lose_order_ack(1000)
    bot.place(bot.intent(intent_id, symbol=PERP, size="2"))
    coid = client_order_id(intent_id)
    bot.wait_status(coid, S.UNKNOWN)
    wait_drained(bot.executor)
    bot.sim.faults.clear()  # the order stays hidden until hidden_s has passed
    bot.trading(TradingState.HALTED)
    wait_drained(bot.executor)
    _run_for(bot, hidden_s / 2, step_s=5.0)
    assert bot.state().orders[coid] == "expired"
    assert _journaled_fill_ids(bot, coid) == set()
    return coid


def test_a_lost_answer_order_settled_expired_that_turns_out_filled_has_its_fill_booked_once(
    bot: Harness,
) -> None:
    hidden_s = 120.0
    coid = _lost_answer_expired(bot, "lost-answer", hidden_s)

    _run_for(bot, hidden_s + 60.0, step_s=30.0)

    _journal_holds_the_venues_fills(bot, coid)
    assert set(_positions(bot)) <= {Decimal(0), Decimal(2)}
    assert _positions(bot)[-1] == _venue_position(bot) == Decimal(2)
    with bot.reader() as journal:
        (fill,) = journal.fills(client_order_id=coid)
    assert fill.intent_id == "lost-answer"  # with its order's facts


def test_a_foreign_fill_is_never_booked_while_ours_is(bot: Harness) -> None:
    hidden_s = 120.0
    coid = _lost_answer_expired(bot, "ours", hidden_s)
    bot.rest.create_order(
        OrderRequest(
            client_order_id="by-hand", product_id=PERP, side=OrderSide.BUY,
            configuration=MarketIoc(base_size=Decimal(3)),
        )
    )  # fmt: skip

    _run_for(bot, hidden_s + 60.0, step_s=30.0)

    _journal_holds_the_venues_fills(bot, coid)
    assert _journaled_fill_ids(bot, "by-hand") == set()
    with bot.reader() as journal:
        assert {f.client_order_id for f in journal.fills()} == {coid}
    # The owner's contracts come into the book as a correction, as before.
    assert _positions(bot)[-1] == _venue_position(bot) == Decimal(5)
    assert set(_positions(bot)) <= {Decimal(0), Decimal(2), Decimal(3), Decimal(5)}
