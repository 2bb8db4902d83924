"""Crash consistency of the order path, at the actor level.

The executor is killed (an injected fault raises in its handler) at each point of the order
path; its supervisor restarts it while the journal keeps running. After the restart the venue
holds exactly one order per intent, filled, and the journal agrees with it; the strategy
sending the same intent again changes nothing. (The process-level ``kill -9`` cases are the
integration step's.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.ids import client_order_id
from perpsbot.messages import OrderFilled, OrderStatus, TradingState
from perpsbot.sim import SimConfig, SimExchange
from tests.actors.execution.executor_harness import Harness, running, start_executor


class InjectedCrashError(RuntimeError):
    """The executor is killed here."""


class CrashOnce:
    """The executor's ``faults`` hook: raises the first time the order path reaches ``point``."""

    def __init__(self, point: str) -> None:
        self.point = point
        self.crashed = threading.Event()

    def __call__(self, point: str) -> None:
        if point == self.point and not self.crashed.is_set():
            self.crashed.set()
            raise InjectedCrashError(f"executor killed at {point}")


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=11)) as sim:
        yield sim


def _crash_and_restart(bot: Harness, crash: CrashOnce) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("crash", size="0.002"))
    assert crash.crashed.wait(10.0), f"the order path never reached {crash.point}"
    bot.wait_reconciled(2)  # the restarted executor's startup reconciliation


def _assert_one_filled_order_the_journal_agrees_with(bot: Harness) -> None:
    coid = client_order_id("crash")
    bot.wait_status(coid, OrderStatus.FILLED)
    (order,) = bot.venue_orders("crash")
    assert (order.status, order.filled_size) == ("FILLED", Decimal("0.002"))
    journaled = bot.journaled(coid, OrderStatus.FILLED)
    assert journaled.venue_order_id == order.order_id
    assert journaled.filled_size == order.filled_size
    published = [f for f in bot.of(OrderFilled) if f.client_order_id == coid]
    assert sum(f.size for f in published) == order.filled_size  # no fill twice, none lost
    with bot.reader() as journal:
        assert journal.fill_ids(coid) == {f.fill_id for f in published}
    # The strategy, not knowing, sends the intent again: still one order.
    bot.place(bot.intent("crash", size="0.002"))
    bot.wait(lambda _: any(d.intent_id == "crash" for d in bot.of_denials()), "a denial")
    assert len(bot.venue_orders("crash")) == 1


def test_killed_before_the_journal_write(sim: SimExchange, tmp_path: Path) -> None:
    crash = CrashOnce("before_journal")
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=crash)) as bot:
        _crash_and_restart(bot, crash)
        assert bot.venue_orders("crash") == []
        with bot.reader() as journal:
            assert journal.intent("crash") is None
        # Nothing was journaled or sent: the strategy's next attempt places it, once.
        bot.place(bot.intent("crash", size="0.002"))
        bot.wait_status(client_order_id("crash"), OrderStatus.FILLED)
        _assert_one_filled_order_the_journal_agrees_with(bot)


def test_killed_after_the_journal_write_before_the_rest_call(
    sim: SimExchange, tmp_path: Path
) -> None:
    crash = CrashOnce("before_submit")
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=crash)) as bot:
        _crash_and_restart(bot, crash)
        _assert_one_filled_order_the_journal_agrees_with(bot)


def test_killed_after_the_rest_call_before_its_answer(sim: SimExchange, tmp_path: Path) -> None:
    crash = CrashOnce("after_submit")
    # The venue creates the order, but every answer is lost and the lookups cannot see it
    # yet: the executor dies not knowing whether the order exists.
    sim.faults.lose_order_ack(4)
    sim.faults.delay_order_visibility(0.3)
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=crash)) as bot:
        _crash_and_restart(bot, crash)
        # Sent again under the same client order id, the venue answered with the order it
        # had; once the order is visible, the in-flight reconciliation reads its fills.
        bot.until(lambda: bot.venue_orders("crash"), "the order to become visible")
        bot.clock.advance(2.0)
        _assert_one_filled_order_the_journal_agrees_with(bot)


def test_killed_after_the_answer_before_the_journal_records_it(
    sim: SimExchange, tmp_path: Path
) -> None:
    crash = CrashOnce("after_submit")
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=crash)) as bot:
        _crash_and_restart(bot, crash)
        _assert_one_filled_order_the_journal_agrees_with(bot)
