"""Crash consistency of the order path, at the actor level, on each venue.

The executor is killed (an injected fault raises in its handler) at each point of the order
path; its supervisor restarts it while the journal keeps running. After the restart the venue
holds exactly one order per intent, filled, and the journal agrees with it; the strategy
sending the same intent again changes nothing. Each case runs on Advanced Trade (client ids
deduplicated) and on the Global Derivatives gateway (labels not deduplicated: an order whose
answer was lost is found by its label, never sent again unproven), with its orders followed
by polls and with its user channels as well (``global-streamed``). (The process-level
``kill -9`` cases are the integration step's.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.actors.execution._order_desk import ATTEMPT_WINDOW_NS
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    OrderFilled,
    OrderStatus,
    Reconcile,
    ReconciliationCompleted,
    TradingState,
)
from perpsbot.runtime.testing import wait_idle
from perpsbot.venue.gateway import VenueOrder
from tests.actors.execution.executor_harness import Harness, running
from tests.actors.execution.venues import VENUES, Venue, open_venue


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


@pytest.fixture(params=VENUES)
def venue(request: pytest.FixtureRequest) -> Iterator[Venue]:
    with open_venue(request.param) as opened:
        yield opened


def _crash_and_restart(bot: Harness, venue: Venue, crash: CrashOnce) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("crash", symbol=venue.symbol, size=venue.size))
    assert crash.crashed.wait(10.0), f"the order path never reached {crash.point}"
    bot.wait_reconciled(2)  # the restarted executor's startup reconciliation


def _wait_filled(
    bot: Harness, venue: Venue, coid: str, status: OrderStatus = OrderStatus.FILLED
) -> None:
    """Wait for the order to reach ``status``; a polled order is polled by moving the clock."""

    def reached() -> bool:
        statuses = bot.statuses(coid)
        # Sending waits for real work (the journal, the portfolio's answer to the last
        # reconciliation): the clock moves only once the order went out, or it would pass
        # the intent's TTL first. An order waited for to expire is past that already.
        sent = OrderStatus.SUBMITTED in statuses or status is OrderStatus.EXPIRED
        if venue.polled and sent:
            # A second at a time, each handled before the next: its polls and reconciliations
            # see the venue at every second of the test's (and the venue's) time, and the
            # portfolio answers each reconciliation before the clock moves on (or a held-back
            # order could outlive its TTL on a busy machine).
            bot.clock.advance(1.0)
            wait_idle(bot.system)
        return status in statuses

    bot.until(reached, f"order {coid} to be {status}", timeout_s=30.0)


def _assert_one_filled_order_the_journal_agrees_with(
    bot: Harness, venue: Venue, intent_id: str = "crash"
) -> None:
    coid = client_order_id(intent_id)
    _wait_filled(bot, venue, coid)
    (order,) = venue.orders(bot, coid)
    assert (order.status, order.filled_size) == ("FILLED", Decimal(venue.size))
    journaled = bot.journaled(coid, OrderStatus.FILLED)
    assert journaled.venue_order_id == order.venue_order_id
    assert journaled.filled_size == order.filled_size
    published = [f for f in bot.of(OrderFilled) if f.client_order_id == coid]
    assert sum(f.size for f in published) == order.filled_size  # no fill twice, none lost
    with bot.reader() as journal:
        assert journal.fill_ids(coid) == {f.fill_id for f in published}
    # The strategy, not knowing, sends the intent again: still one order.
    bot.place(bot.intent(intent_id, symbol=venue.symbol, size=venue.size))
    bot.wait(lambda _: any(d.intent_id == intent_id for d in bot.of_denials()), "a denial")
    assert len(venue.orders(bot, coid)) == 1


def test_killed_before_the_journal_write(venue: Venue, tmp_path: Path) -> None:
    crash = CrashOnce("before_journal")
    with running(venue.start(tmp_path / "j.sqlite3", crash)) as bot:
        _crash_and_restart(bot, venue, crash)
        assert venue.orders(bot, client_order_id("crash")) == []
        with bot.reader() as journal:
            assert journal.intent("crash") is None
        # Nothing was journaled or sent: the strategy's next attempt places it, once.
        bot.place(bot.intent("crash", symbol=venue.symbol, size=venue.size))
        _wait_filled(bot, venue, client_order_id("crash"))
        _assert_one_filled_order_the_journal_agrees_with(bot, venue)


def test_killed_after_the_journal_write_before_the_rest_call(venue: Venue, tmp_path: Path) -> None:
    crash = CrashOnce("before_submit")
    with running(venue.start(tmp_path / "j.sqlite3", crash)) as bot:
        _crash_and_restart(bot, venue, crash)
        # Never sent, and the restart knows it: where client ids are deduplicated a re-send
        # is harmless; where they are not, a request goes out only once the journal holds its
        # SUBMITTED, so an order journaled PENDING_SUBMIT was never sent. Sent once now.
        _assert_one_filled_order_the_journal_agrees_with(bot, venue)


def test_killed_after_the_rest_call_before_its_answer(venue: Venue, tmp_path: Path) -> None:
    crash = CrashOnce("after_submit")
    # The venue creates the order, but its answers are lost: the executor dies not knowing
    # whether the order exists.
    venue.lose_answers(4)
    with running(venue.start(tmp_path / "j.sqlite3", crash)) as bot:
        _crash_and_restart(bot, venue, crash)

        # Found by its client order id (on Advanced Trade, sent again under it, the venue
        # answered with the order it had; on the Global gateway, never sent again: its
        # attempt's deadline is unknown after the restart, so only a lookup settles it).
        # Once the order is visible, the in-flight reconciliation reads its fills.
        def visible() -> list[VenueOrder]:
            if venue.polled:
                bot.clock.advance(0.5)  # the venue's visibility lag runs on the test's clock
            return venue.orders(bot, client_order_id("crash"))

        bot.until(visible, "the order to be visible")
        bot.clock.advance(2.0)
        _assert_one_filled_order_the_journal_agrees_with(bot, venue)


def test_killed_after_the_answer_before_the_journal_records_it(
    venue: Venue, tmp_path: Path
) -> None:
    crash = CrashOnce("after_submit")
    with running(venue.start(tmp_path / "j.sqlite3", crash)) as bot:
        _crash_and_restart(bot, venue, crash)
        _assert_one_filled_order_the_journal_agrees_with(bot, venue)


GRACE_NS = 5 * 10**9  # the gateway's default grace for visibility lag
SKEW_NS = 10**9  # the gateway's default skew margin off valid_until


@pytest.mark.slow  # long: the request is held past the client's real deadline
@pytest.mark.parametrize("venue", ["global"], indirect=True)
def test_a_lost_answer_with_nothing_placed_is_sent_again_only_once_proven_absent(
    venue: Venue, tmp_path: Path
) -> None:
    assert venue.sim_gateway is not None
    with running(venue.start(tmp_path / "j.sqlite3", CrashOnce("never"))) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("warm-up", symbol=venue.symbol, size=venue.size))
        _wait_filled(bot, venue, client_order_id("warm-up"))  # the venue's clock offset read
        # The order request is held at the venue past the client's deadline (an ambiguous
        # answer) and reaches matching after its valid_until: nothing is placed.
        venue.sim_gateway.faults.slow_requests(4.0)
        bot.place(bot.intent("late", symbol=venue.symbol, size=venue.size))
        coid = client_order_id("late")
        first = bot.wait_status(coid, OrderStatus.SUBMITTED)
        # Written once the journal holds its SUBMITTED (this venue does not deduplicate
        # client ids), which sets its send-by instant; the client gives up on it (2 s) while
        # the venue still holds it (4 s): past its send-by instant before it reaches matching.
        bot.wait_status(coid, OrderStatus.UNKNOWN)
        bot.clock.advance(ATTEMPT_WINDOW_NS / 1e9 + 1)

        _wait_filled(bot, venue, coid)

        resent = [u for u in bot.updates(coid) if u.status is OrderStatus.SUBMITTED][1]
        proven_after_ns = ATTEMPT_WINDOW_NS - SKEW_NS + 2 * GRACE_NS
        assert resent.ts_created_ns - first.ts_created_ns >= proven_after_ns
        _assert_one_filled_order_the_journal_agrees_with(bot, venue, "late")


@pytest.mark.parametrize("venue", ["global", "global-streamed"], indirect=True)
@pytest.mark.parametrize(
    ("point", "answers_lost"),
    [
        ("never", False),
        ("never", True),
        ("before_journal", False),
        ("before_submit", False),
        ("after_submit", True),
        ("after_submit", False),
    ],
    ids=["alive", "alive-answer-lost", "before-journal", "before-submit",
         "after-submit-answer-lost", "after-answer"],
)  # fmt: skip
def test_a_strangers_order_carrying_our_label_is_never_taken_for_ours_nor_its_fills(
    venue: Venue, tmp_path: Path, point: str, answers_lost: bool
) -> None:
    assert venue.sim_gateway is not None
    # A stranger's market order of one contract carries our label, placed just before ours.
    venue.sim_gateway.faults.duplicate_labels(count=1, contracts=1)
    if answers_lost:
        venue.lose_answers(4)
    coid = client_order_id("crash")
    crash = CrashOnce(point)
    with running(venue.start(tmp_path / "j.sqlite3", crash)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("crash", symbol=venue.symbol, size=venue.size))
        if point != "never":
            assert crash.crashed.wait(10.0), f"the order path never reached {point}"
            bot.wait_reconciled(2)
        if point == "before_journal":  # nothing journaled or sent: the strategy sends it again
            bot.place(bot.intent("crash", symbol=venue.symbol, size=venue.size))
        # Never sent before the crash (before_submit: the journal holds no SUBMITTED), it is
        # sent once by the restart's reconciliation; none of the stranger's is taken for it.
        _wait_filled(bot, venue, coid, OrderStatus.FILLED)
        # A reconciliation sweeps the venue's recent fills, the stranger's among them.
        passes = len([c for c in bot.of(ReconciliationCompleted) if c.success])
        bot.executor.tell(Reconcile())
        bot.wait_reconciled(passes + 1)

        labelled = venue.orders(bot, coid)
        ours = [o for o in labelled if o.size == Decimal(venue.size)]
        strangers = [o for o in labelled if o.size != Decimal(venue.size)]
        assert len(ours) == 1  # never a second order of ours
        assert len(strangers) == 1
        for stranger in strangers:
            assert stranger.venue_order_id not in {u.venue_order_id for u in bot.updates(coid)}
        published = [f for f in bot.of(OrderFilled) if f.client_order_id == coid]
        assert sum(f.size for f in published) == sum(o.filled_size for o in ours)
        if ours:
            journaled = bot.journaled(coid, OrderStatus.FILLED)
            assert journaled.venue_order_id == ours[0].venue_order_id
            assert journaled.filled_size == Decimal(venue.size)
            with bot.reader() as journal:
                assert journal.fill_ids(coid) == {f.fill_id for f in published}
