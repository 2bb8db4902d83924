"""The executor against the loopback exchange: placing, following, cancelling, refusing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.ids import client_order_id
from perpsbot.messages import (
    CancelAllOrders,
    CancelOrder,
    DryRunOrder,
    IntentPurpose,
    IntentRecorded,
    OrderFilled,
    OrderStatus,
    RecordIntent,
    Side,
    TimeInForce,
    TradingState,
    TransitionSource,
)
from perpsbot.runtime import MailboxFullError
from perpsbot.runtime.testing import Probe, wait_drained, wait_idle
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue.records import OrderRecord
from tests.actors.execution.executor_harness import (
    SPOT,
    Harness,
    running,
    seed_journal,
    start_executor,
)
from tests.actors.trading import recorder_spec

S = OrderStatus


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=5)) as sim:
        yield sim


@pytest.fixture
def bot(sim: SimExchange, tmp_path: Path) -> Iterator[Harness]:
    with running(start_executor(sim, tmp_path / "journal.sqlite3")) as harness:
        yield harness


def _feed_healthy(bot: Harness) -> None:
    bot.until(lambda: bot.state().user_feed_healthy, "the user channel to be healthy")


def _feed_down(bot: Harness) -> None:
    # Seen healthy first: a "healthy" still on its way would otherwise land after the order
    # and the "unhealthy" that follows it would poll at once.
    _feed_healthy(bot)
    bot.sim.faults.refuse_connections(for_s=600)
    bot.sim.faults.disconnect_all(None)
    bot.until(lambda: not bot.state().user_feed_healthy, "the user channel to be down")


def _cancel(bot: Harness, coid: str) -> None:
    bot.executor.tell(
        CancelOrder(message_id=f"cancel-{coid}", ts_created_ns=0, client_order_id=coid,
                    reason="test")
    )  # fmt: skip


def test_a_market_order_fills_and_the_user_channel_reports_it(bot: Harness) -> None:
    _feed_healthy(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("buy-1", size="0.002"))
    coid = client_order_id("buy-1")
    filled = bot.wait_status(coid, S.FILLED)
    assert filled.source is TransitionSource.USER_CHANNEL
    assert bot.statuses(coid) == [S.PENDING_SUBMIT, S.SUBMITTED, S.ACKNOWLEDGED, S.FILLED]
    fills = [f for f in bot.of(OrderFilled) if f.client_order_id == coid]
    assert sum(f.size for f in fills) == Decimal("0.002")
    assert [o.status for o in bot.venue_orders("buy-1")] == ["FILLED"]
    bot.journaled(coid, S.FILLED)
    with bot.reader() as journal:
        assert journal.fill_ids(coid) == {f.fill_id for f in fills}


def test_while_the_user_channel_is_down_polls_follow_the_orders(bot: Harness) -> None:
    _feed_down(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("buy-poll"))
    coid = client_order_id("buy-poll")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    assert S.FILLED not in bot.statuses(coid)  # nothing tells the executor but a poll
    bot.clock.advance(2.0)  # execution.order_poll_interval_s
    assert bot.wait_status(coid, S.FILLED).source is TransitionSource.POLL
    assert sum(f.size for f in bot.of(OrderFilled)) == Decimal("0.001")
    bot.sim.faults.clear()  # the feed reconnects: polls stop
    _feed_healthy(bot)
    polls = bot.state().polls
    bot.place(bot.intent("buy-stream"))
    bot.wait_status(client_order_id("buy-stream"), S.FILLED)
    assert bot.state().polls == polls


def test_an_order_that_ends_before_the_user_channel_answers_is_read_as_it_does(
    bot: Harness,
) -> None:
    _feed_down(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("gap"))
    coid = client_order_id("gap")
    bot.wait_status(coid, S.ACKNOWLEDGED)  # and filled at the venue, which nobody reports
    wait_drained(bot.executor)
    assert S.FILLED not in bot.statuses(coid)
    # The subscription's snapshot lists only open orders, and no poll is due (the clock
    # stands): the channel becoming healthy reads what it cannot restate.
    bot.sim.faults.clear()
    assert bot.wait_status(coid, S.FILLED).source is TransitionSource.POLL
    assert sum(f.size for f in bot.of(OrderFilled)) == Decimal("0.001")


def test_fills_are_published_once_even_when_the_venue_restates_them(bot: Harness) -> None:
    _feed_healthy(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("buy-once", size="0.003"))
    coid = client_order_id("buy-once")
    bot.wait_status(coid, S.FILLED)
    before = [f.fill_id for f in bot.of(OrderFilled)]
    # A reconnect restates the open orders (a snapshot), and a reconciliation re-reads
    # the order and its fills: neither may publish a fill again. (Seen down, so that the
    # "healthy" below is the reconnect's and not the first connection's.)
    _feed_down(bot)
    bot.sim.faults.clear()
    bot.clock.advance(30.0)
    bot.wait_reconciled(2)
    _feed_healthy(bot)
    wait_drained(bot.executor)  # the snapshot that follows the reconnect's first frame
    assert [f.fill_id for f in bot.of(OrderFilled)] == before
    assert len(set(before)) == len(before) > 0


def test_a_lost_ack_is_settled_by_client_order_id_not_by_a_second_order(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.lose_order_ack(1)
    bot.place(bot.intent("lost-ack"))
    coid = client_order_id("lost-ack")
    acked = bot.wait_status(coid, S.ACKNOWLEDGED)
    assert acked.source is TransitionSource.REST
    (order,) = bot.venue_orders("lost-ack")
    assert acked.venue_order_id == order.order_id


def test_an_answer_lost_beyond_lookup_is_unknown_until_reconciled_once(bot: Harness) -> None:
    _feed_healthy(bot)  # the fill is reported on the user channel (a poll needs more time)
    bot.trading(TradingState.ACTIVE)
    # Every attempt loses its answer and the lookups cannot see the order yet.
    bot.sim.faults.delay_order_visibility(1.0)
    bot.sim.faults.lose_order_ack(4)
    bot.place(bot.intent("unknown"))
    coid = client_order_id("unknown")
    assert bot.wait_status(coid, S.UNKNOWN).source is TransitionSource.REST
    wait_drained(bot.executor)  # UNKNOWN is published before the reconciliation is armed
    bot.clock.advance(2.0)  # the in-flight reconciliation after an UNKNOWN
    (order,) = _eventually_visible(bot, "unknown")  # and so are its fills, from now on
    wait_drained(bot.executor)
    bot.clock.advance(2.0)  # a poll reads the fills that were not visible yet
    # Filled is published only once its fills are read and booked: never before.
    settled = bot.wait_status(coid, S.FILLED)
    assert settled.venue_order_id == order.order_id
    assert settled.booked_size == settled.filled_size == order.filled_size


def _eventually_visible(bot: Harness, intent_id: str) -> list[OrderRecord]:
    return bot.until(lambda: bot.venue_orders(intent_id), f"{intent_id} to be visible")


@pytest.fixture
def slow_bot(sim: SimExchange, tmp_path: Path) -> Iterator[Harness]:
    with running(start_executor(sim, tmp_path / "j.sqlite3", request_timeout_s=0.3)) as harness:
        yield harness


@pytest.mark.slow  # long: the ack comes after the client's real deadline
def test_a_slow_ack_past_the_deadline_is_unknown_until_reconciled_and_sent_once(
    slow_bot: Harness,
) -> None:
    bot = slow_bot
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.delay_order_visibility(0.5)  # the lookup after the timeout sees nothing
    bot.sim.faults.slow_responses(delay_s=1.0, count=1)
    bot.place(bot.intent("slow"))
    coid = client_order_id("slow")
    # The create's whole call (attempts, lookups, waits) ends within its 0.3 s deadline.
    bot.wait_status(coid, S.UNKNOWN)
    (order,) = _eventually_visible(bot, "slow")  # the late original, before the clock moves
    wait_drained(bot.executor)
    bot.clock.advance(2.0)  # the reconciliation it armed looks the order up by its id
    settled = bot.wait_status(coid, S.FILLED)
    assert settled.venue_order_id == order.order_id
    assert len(bot.venue_orders("slow")) == 1


def test_a_429_on_create_is_retried_with_the_same_client_order_id(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.http_error(429, count=1, path="/orders", retry_after_s=0.01)
    bot.place(bot.intent("throttled"))
    bot.wait_status(client_order_id("throttled"), S.FILLED)
    assert len(bot.venue_orders("throttled")) == 1


def test_429s_on_every_attempt_leave_it_unknown_then_it_is_sent_once(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.sim.faults.http_error(429, count=4, path="/orders")
    bot.place(bot.intent("throttled-4"))
    coid = client_order_id("throttled-4")
    bot.wait_status(coid, S.UNKNOWN)
    wait_drained(bot.executor)  # UNKNOWN is published before the reconciliation is armed
    bot.clock.advance(2.0)
    bot.wait_status(coid, S.FILLED)
    assert len(bot.venue_orders("throttled-4")) == 1


def test_a_stuck_cancel_stays_pending_until_the_venue_confirms_it(bot: Harness) -> None:
    _feed_healthy(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("rest", limit="60000", tif=TimeInForce.GTC))
    coid = client_order_id("rest")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    bot.sim.faults.stuck_cancels(1)
    _cancel(bot, coid)
    bot.wait_status(coid, S.CANCEL_PENDING)
    bot.clock.advance(30.0)  # a reconciliation sees CANCEL_QUEUED: still pending
    bot.wait_reconciled(2)
    assert bot.statuses(coid)[-1] is S.CANCEL_PENDING
    bot.sim.faults.clear()  # the venue finishes the cancel
    assert bot.wait_status(coid, S.CANCELLED).source is TransitionSource.USER_CHANNEL
    assert [o.status for o in bot.venue_orders("rest")] == ["CANCELLED"]


def test_a_cancel_that_loses_the_race_to_a_fill_ends_filled(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    _feed_down(bot)
    bot.place(bot.intent("race", limit="68500", tif=TimeInForce.GTC))
    coid = client_order_id("race")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    bot.sim.faults.price_jump(SPOT, -0.05)
    bot.sim.step()  # the order fills at the venue; nobody tells the executor
    _cancel(bot, coid)
    filled = bot.wait_status(coid, S.FILLED)
    assert filled.source is TransitionSource.REST
    assert S.CANCEL_PENDING in bot.statuses(coid)
    assert sum(f.size for f in bot.of(OrderFilled)) == Decimal("0.001")


def test_cancel_all_entries_leaves_the_exits_alone(bot: Harness) -> None:
    _feed_healthy(bot)
    bot.trading(TradingState.ACTIVE)
    bot.position(SPOT, "0.001")  # what the exit closes
    bot.place(bot.intent("entry", limit="60000", tif=TimeInForce.GTC))
    bot.place(
        bot.intent("exit", side=Side.SELL, limit="80000", tif=TimeInForce.GTC,
                   purpose=IntentPurpose.EXIT)
    )  # fmt: skip
    bot.wait_status(client_order_id("exit"), S.ACKNOWLEDGED)
    bot.executor.tell(
        CancelAllOrders(message_id="ca", ts_created_ns=0, reason="daily loss", entries_only=True)
    )
    bot.wait_status(client_order_id("entry"), S.CANCELLED)
    assert bot.statuses(client_order_id("exit"))[-1] is S.ACKNOWLEDGED
    assert [o.status for o in bot.venue_orders("exit")] == ["OPEN"]


def test_halted_refuses_orders_told_straight_to_the_executor(bot: Harness) -> None:
    bot.trading(TradingState.HALTED, "operator halt")
    bot.place(bot.intent("halted"))
    denial = bot.denial("halted")
    assert (denial.rule, denial.denied_by) == ("halted", "executor")
    assert "operator halt" in denial.reason
    assert bot.venue_orders("halted") == []
    with bot.reader() as journal:
        assert journal.intent("halted") is None


def test_halted_still_cancels(bot: Harness) -> None:
    _feed_healthy(bot)
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("open", limit="60000", tif=TimeInForce.GTC))
    coid = client_order_id("open")
    bot.wait_status(coid, S.ACKNOWLEDGED)
    bot.trading(TradingState.HALTED, "operator halt")
    _cancel(bot, coid)
    bot.wait_status(coid, S.CANCELLED)


def test_reducing_allows_only_what_shrinks_the_position(bot: Harness) -> None:
    # The bot's own long of 1 BTC (the wallet's other BTC are not the bot's to sell).
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("open", side=Side.BUY, size="1"))
    bot.wait_status(client_order_id("open"), S.FILLED)
    bot.trading(TradingState.REDUCING, "stale marks")
    bot.place(bot.intent("grow", side=Side.BUY))
    assert bot.denial("grow").rule == "reduce_only"
    bot.place(bot.intent("flip", side=Side.SELL, size="1.5", purpose=IntentPurpose.EXIT))
    assert "would not only shrink the position (long 1)" in bot.denial("flip").reason
    bot.place(bot.intent("shrink", side=Side.SELL, size="0.4", purpose=IntentPurpose.EXIT))
    bot.wait_status(client_order_id("shrink"), S.ACKNOWLEDGED)
    assert bot.venue_orders("grow", "flip") == []


def test_before_risk_says_anything_only_reductions_pass(bot: Harness) -> None:
    bot.place(bot.intent("early"))
    denial = bot.denial("early")
    assert denial.rule == "reduce_only"
    assert "no trading state from risk yet" in denial.reason


class _HeldSubmit:
    """The executor's fault hook: holds it in its first ``before_submit`` until the test
    lets it go, so that what the test tells meanwhile is certainly queued behind that order
    (a slow answer from the venue would only make it likely)."""

    def __init__(self) -> None:
        self._held = threading.Event()
        self._released = threading.Event()

    def __call__(self, point: str) -> None:
        if point == "before_submit" and not self._held.is_set():
            self._held.set()
            self._released.wait(10.0)

    def wait_held(self) -> None:
        assert self._held.wait(10.0), "the executor never came to send an order"

    def release(self) -> None:
        self._released.set()


def test_a_halt_overtakes_orders_already_queued(sim: SimExchange, tmp_path: Path) -> None:
    held = _HeldSubmit()
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=held)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("first"))
        held.wait_held()  # the executor is sending "first" and handles nothing else
        bot.place(bot.intent("queued"))
        bot.trading(TradingState.HALTED, "operator halt")
        held.release()
        assert bot.denial("queued").rule == "halted"
        bot.wait_status(client_order_id("first"), S.ACKNOWLEDGED)
        assert bot.venue_orders("queued") == []


def test_an_order_is_announced_before_its_rest_call(sim: SimExchange, tmp_path: Path) -> None:
    held = _HeldSubmit()
    with running(start_executor(sim, tmp_path / "j.sqlite3", faults=held)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("quiet"))
        coid = client_order_id("quiet")
        held.wait_held()  # journaled, about to call the venue
        # Risk and the strategy must hear that it reached the executor before the call: it
        # may outlast the intent's TTL, past which they forget an order they never heard of.
        assert bot.wait_status(coid, S.PENDING_SUBMIT).status is S.PENDING_SUBMIT
        held.release()
        bot.wait_status(coid, S.ACKNOWLEDGED)
        assert bot.statuses(coid)[:3] == [S.PENDING_SUBMIT, S.SUBMITTED, S.ACKNOWLEDGED]


def _slow_journal(sim: SimExchange, path: Path) -> tuple[Harness, Probe]:
    """An executor whose journal takes RecordIntent and confirms nothing by itself: the test
    tells IntentRecorded when the commit "ends"."""
    seed_journal(path, lambda _: [])  # an empty journal file to reconcile from
    journal = Probe()
    return start_executor(sim, path, journal=recorder_spec("journal", journal)), journal


def _commit_ends(bot: Harness, journal: Probe, intent_id: str) -> None:
    record = next(m for m in journal.events if isinstance(m, RecordIntent))
    assert record.intent.intent_id == intent_id
    bot.executor.tell(
        IntentRecorded(
            message_id=f"recorded-{intent_id}", ts_created_ns=0,
            correlation_id=record.message_id, intent_id=intent_id,
            client_order_id=record.client_order_id,
        )
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "outcome", "why"),
    [
        (TradingState.HALTED, S.CANCELLED, "cancelled before it was sent"),
        (TradingState.REDUCING, S.EXPIRED, "never sent"),
    ],
)
def test_a_state_change_while_the_journal_commits_the_intent_is_not_bypassed(
    sim: SimExchange, tmp_path: Path, state: TradingState, outcome: OrderStatus, why: str
) -> None:
    slow, journal = _slow_journal(sim, tmp_path / "j.sqlite3")
    with running(slow) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("entry", ttl_s=5.0))
        journal.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
        bot.trading(state, "operator")
        _commit_ends(bot, journal, "entry")
        coid = client_order_id("entry")
        bot.wait_status(coid, S.PENDING_SUBMIT)  # journaled, and held back
        bot.clock.advance(6.0)  # past its TTL
        settled = bot.wait_status(coid, outcome)
        assert why in settled.reason
        assert S.SUBMITTED not in bot.statuses(coid)
        assert bot.venue_orders("entry") == []


def test_an_order_held_back_by_reducing_goes_once_trading_allows_it_within_its_ttl(
    sim: SimExchange, tmp_path: Path
) -> None:
    slow, journal = _slow_journal(sim, tmp_path / "j.sqlite3")
    with running(slow) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("entry", ttl_s=30.0))
        journal.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
        bot.trading(TradingState.REDUCING, "stale marks")
        _commit_ends(bot, journal, "entry")
        coid = client_order_id("entry")
        bot.wait_status(coid, S.PENDING_SUBMIT)
        bot.trading(TradingState.ACTIVE)
        bot.until(lambda: bot.state().trading_state == "active", "the executor to be ACTIVE")
        wait_idle(bot.system)  # and the portfolio's answer to the last pass has come
        bot.clock.advance(2.0)  # the reconciliation that looks it up, then sends it
        bot.wait_status(coid, S.FILLED)
        assert len(bot.venue_orders("entry")) == 1


def test_a_full_order_queue_refuses_the_sender(sim: SimExchange, tmp_path: Path) -> None:
    held = _HeldSubmit()
    harness = start_executor(sim, tmp_path / "j.sqlite3", max_pending_orders=2, faults=held)
    with running(harness) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("busy"))
        held.wait_held()  # the executor is sending "busy" and takes no order off its queue
        bot.place(bot.intent("q1"))
        bot.place(bot.intent("q2"))
        with pytest.raises(MailboxFullError):
            bot.place(bot.intent("q3"))
        held.release()
        for intent_id in ("busy", "q1", "q2"):
            bot.wait_status(client_order_id(intent_id), S.FILLED)
        assert bot.venue_orders("q3") == []


def test_a_resent_intent_never_becomes_a_second_order(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    intent = bot.intent("twice")
    bot.place(intent)
    bot.wait_status(client_order_id("twice"), S.FILLED)
    bot.place(intent)
    assert bot.denial("twice").rule == "duplicate_intent"
    assert len(bot.venue_orders("twice")) == 1


def test_an_intent_that_does_not_fit_the_product_is_denied_naming_the_rule(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent("tiny", size="0.000000004"))
    denial = bot.denial("tiny")
    assert denial.rule == "base_min_size"
    assert denial.reason == (
        "size 0 BTC (0.000000004 rounded down to base_increment 0.00000001) is below "
        "base_min_size 0.00000001 for BTC-USD"
    )


def test_an_expired_intent_is_never_sent(bot: Harness) -> None:
    bot.trading(TradingState.ACTIVE)
    intent = bot.intent("late", ttl_s=1.0)
    bot.clock.advance(1.5)
    bot.place(intent)
    assert bot.denial("late").rule == "intent_expired"
    assert bot.venue_orders("late") == []


def test_dry_run_publishes_the_exact_request_and_sends_nothing(
    sim: SimExchange, tmp_path: Path
) -> None:
    with running(start_executor(sim, tmp_path / "j.sqlite3", dry_run=True)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("dry", limit="60000.004", tif=TimeInForce.GTC))
        coid = client_order_id("dry")
        final = bot.wait_status(coid, S.CANCELLED)
        assert final.source is TransitionSource.DRY_RUN
        (dry,) = bot.of(DryRunOrder)
        assert json.loads(dry.request) == {
            "client_order_id": coid,
            "product_id": "BTC-USD",
            "side": "BUY",
            "order_configuration": {
                "limit_limit_gtc": {"base_size": "0.00100000", "limit_price": "60000.00",
                                    "post_only": False}
            },
        }  # fmt: skip
        assert bot.venue_orders("dry") == []
        bot.journaled(coid, S.CANCELLED)
        with bot.reader() as journal:
            assert [d.client_order_id for d in journal.dry_run_orders()] == [coid]
