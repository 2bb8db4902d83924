"""Startup and periodic reconciliation against the loopback exchange and a journal file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from perpsbot.actors.risk._check import OrderCheck
from perpsbot.actors.risk._rules import LiquidationBuffer
from perpsbot.clock import FakeClock
from perpsbot.config import RiskConfig
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    AccountReconciled,
    CancelAllOrders,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderUpdated,
    PositionChanged,
    PositionView,
    ReadOrders,
    ReconciliationCompleted,
    RecordIntent,
    Side,
    TimeInForce,
    TradingState,
    TransitionSource,
)
from perpsbot.runtime import ChildSpec
from perpsbot.runtime.testing import Probe, wait_drained, wait_idle
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient
from perpsbot.venue.orders import LimitGtc, MarketIoc, OrderRequest, OrderSide
from tests.actors.conftest import Subscriber
from tests.actors.execution.executor_harness import (
    PERP,
    SPOT,
    Harness,
    journaled_update,
    make_intent,
    recorded,
    running,
    seed_journal,
    start_executor,
)
from tests.actors.trading import future, recorder_spec
from tests.support.sim_clients import sim_rest

S = OrderStatus
RECONCILIATION = TransitionSource.RECONCILIATION


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=9)) as sim:
        yield sim


@pytest.fixture
def venue(sim: SimExchange) -> Iterator[RestClient]:
    """Places orders as a previous run of the bot (or a person) did."""
    rest = sim_rest(sim, FakeClock())
    yield rest
    rest.close()


def _market(
    coid: str, symbol: str, side: str, size: str, leverage: str | None = None
) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid, product_id=symbol, side=OrderSide(side),
        configuration=MarketIoc(base_size=Decimal(size)),
        leverage=None if leverage is None else Decimal(leverage),
    )  # fmt: skip


def _resting(coid: str, price: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid, product_id=SPOT, side=OrderSide.BUY,
        configuration=LimitGtc(base_size=Decimal("0.001"), limit_price=Decimal(price)),
    )  # fmt: skip


def test_an_open_order_of_ours_the_journal_never_held_is_adopted(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    ours = client_order_id("placed-then-crashed")
    venue.create_order(_resting(ours, "60000"))
    venue.create_order(_resting("someone-elses", "60001"))
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        done = bot.wait_reconciled()
        (adopted,) = bot.updates(ours)
        assert (adopted.previous, adopted.status, adopted.source) == (
            None, S.ACKNOWLEDGED, RECONCILIATION,
        )  # fmt: skip
        assert adopted.intent_id == f"adopted:{ours}"
        assert any(f"adopted open order {ours}" in line for line in done.corrections)
        assert "1 open order(s) without our client-id prefix: left alone" in done.corrections
        assert bot.updates("someone-elses") == []


def test_journaled_orders_the_venue_finished_are_settled_and_fills_never_repeat(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    clock = FakeClock()
    known = make_intent(clock, "filled-fills-journaled", size="0.002")
    unseen = make_intent(clock, "filled-fills-unseen", size="0.003")
    known_order = venue.create_order(_market(client_order_id("filled-fills-journaled"), SPOT,
                                             "BUY", "0.002"))  # fmt: skip
    unseen_order = venue.create_order(_market(client_order_id("filled-fills-unseen"), SPOT,
                                              "BUY", "0.003"))  # fmt: skip
    (known_fill,) = venue.fills(order_ids=[known_order.order_id])
    path = tmp_path / "j.sqlite3"
    seed_journal(
        path,
        lambda me: [
            recorded(known, me),
            journaled_update(known, S.ACKNOWLEDGED, known_order.order_id),
            _journaled_fill(known, known_fill.entry_id, known_order.order_id),
            recorded(unseen, me),
            journaled_update(unseen, S.ACKNOWLEDGED, unseen_order.order_id),
        ],
    )
    with running(start_executor(sim, path, clock=clock)) as bot:
        bot.wait_reconciled()
        for coid in (known_order.client_order_id, unseen_order.client_order_id):
            settled = bot.wait_status(coid, S.FILLED)
            assert settled.source is RECONCILIATION
        fills = bot.of(OrderFilled)
        assert [f.client_order_id for f in fills] == [unseen_order.client_order_id]
        assert fills[0].size == Decimal("0.003")
        bot.journaled(known_order.client_order_id, S.FILLED)


@pytest.mark.parametrize("journaled", [S.PARTIALLY_FILLED, S.FILLED])
def test_fills_the_journal_lacks_are_read_even_when_it_has_the_filled_size(
    journaled: OrderStatus,
    sim: SimExchange,
    venue: RestClient,
    tmp_path: Path,
) -> None:
    # The previous process journaled the order as filled 0.003 (the user channel said so)
    # while the venue did not list its fills yet, and died before reading them.
    clock = FakeClock()
    intent = make_intent(clock, "fills-lagged", size="0.003")
    coid = client_order_id("fills-lagged")
    placed = venue.create_order(_market(coid, SPOT, "BUY", "0.003"))
    lagged = attrs.evolve(
        journaled_update(intent, journaled, placed.order_id), filled_size=Decimal("0.003")
    )
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda me: [recorded(intent, me), lagged])
    with running(start_executor(sim, path, clock=clock)) as bot:
        bot.wait_reconciled()
        # Filled for everyone only once the lacking fill is read and booked.
        bot.wait(lambda _: any(u.settled for u in bot.updates(coid)), "the order settled")
        (fill,) = bot.of(OrderFilled)
        assert (fill.client_order_id, fill.size) == (coid, intent.size)
        assert set(bot.statuses(coid)) == {S.FILLED}
        assert [u.settled for u in bot.updates(coid)][-1]


def test_an_order_killed_mid_call_and_restored_past_its_ttl_is_looked_for_not_expired(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    # The previous process journaled the intent and its PENDING_SUBMIT, sent the order and
    # died before its SUBMITTED was journaled; the bot comes back after the TTL while the
    # venue's lists do not show the order yet. Expired on that miss (by the plan, or by the
    # expiry of orders never sent), it would let the strategy send another while it fills.
    clock = FakeClock()
    intent = make_intent(clock, "killed-mid-call", ttl_s=5, size="0.003")
    coid = client_order_id("killed-mid-call")
    sim.faults.delay_order_visibility(1.0)
    venue.create_order(_market(coid, SPOT, "BUY", "0.003"))
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda me: [recorded(intent, me),
                                   journaled_update(intent, S.PENDING_SUBMIT)])  # fmt: skip
    clock.advance(10)  # the bot was down past the TTL
    with running(start_executor(sim, path, clock=clock, user_channel=False)) as bot:
        bot.wait_reconciled()
        wait_drained(bot.executor)
        bot.clock.advance(2.0)  # polls and the next look, while the lists still lag
        wait_idle(bot.system)
        assert S.EXPIRED not in bot.statuses(coid)
        bot.until(lambda: bot.venue_orders("killed-mid-call"), "the order to be listed")
        filled = _looked_for_until(bot, coid, S.FILLED)
        assert filled.booked_size == filled.filled_size == Decimal("0.003")
        assert [f.client_order_id for f in bot.of(OrderFilled)] == [coid]
        assert S.EXPIRED not in bot.statuses(coid)


def _journaled_fill(intent: OrderIntent, fill_id: str, venue_order_id: str) -> OrderFilled:
    return OrderFilled(
        message_id=f"fill-{fill_id}", ts_created_ns=0, correlation_id=intent.message_id,
        fill_id=fill_id, intent_id=intent.intent_id,
        client_order_id=client_order_id(intent.intent_id), venue_order_id=venue_order_id,
        symbol=intent.symbol, side=intent.side, price=Decimal(68_000), size=intent.size,
        fee=Decimal(0), ts_event_ns=0,
    )  # fmt: skip


def _restart_in(
    sim: SimExchange,
    path: Path,
    clock: FakeClock,
    state: TradingState,
    *,
    by_a_person: bool | None = None,
) -> Harness:
    """An executor that starts on ``path`` with risk saying ``state`` before its startup
    reconciliation (its first attempt fails while the venue is down; the retry succeeds)."""
    sim.faults.http_error(500, count=10_000, path="/market/products")
    bot = start_executor(sim, path, clock=clock, wait_reconciled=False)
    bot.wait_reconciled(success=False)
    bot.trading(state, "risk", by_a_person=by_a_person)
    bot.until(lambda: bot.state().trading_state == state.value, f"the executor to be {state}")
    sim.faults.clear()
    clock.advance(1.0)  # the retry
    return bot


def test_a_journaled_intent_that_never_reached_the_venue_is_sent_once_within_its_ttl(
    sim: SimExchange, tmp_path: Path
) -> None:
    clock = FakeClock()
    fresh = make_intent(clock, "unsent-fresh", ttl_s=30)
    stale = make_intent(clock, "unsent-stale", ttl_s=5)
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda me: [recorded(fresh, me), recorded(stale, me),
                                   journaled_update(stale, S.SUBMITTED)])  # fmt: skip
    clock.advance(10)  # the bot was down for 10 s
    with running(_restart_in(sim, path, clock, TradingState.REDUCING)) as bot:
        done = bot.wait_reconciled()
        fresh_coid, stale_coid = client_order_id("unsent-fresh"), client_order_id("unsent-stale")
        # Sent, its answer lost: looked for in several passes, never sent again past its TTL.
        expired = _looked_for_until(bot, stale_coid, S.EXPIRED)
        assert expired.source is RECONCILIATION
        assert "in 5 reconciliations: it never reached the venue" in expired.reason
        # REDUCING (as at every process start: not reconciled, no fresh marks yet) holds the
        # entry back; it goes once trading is ACTIVE, still within its TTL.
        (held,) = bot.updates(fresh_coid)  # announced as the journal held it, not sent
        assert (held.status, held.previous) == (S.PENDING_SUBMIT, None)
        assert any(
            "intent unsent-fresh is not at the venue by client order id: waits for trading" in line
            for line in done.corrections
        ), done.corrections
        bot.trading(TradingState.ACTIVE)
        bot.until(lambda: bot.state().trading_state == "active", "the executor to be ACTIVE")
        # The portfolio's answer to the last pass may still be on its way: a pass before it
        # holds the order back again, and the clock would not move on for another.
        wait_idle(bot.system)
        clock.advance(2.0)
        bot.wait_status(fresh_coid, S.FILLED)
        assert bot.statuses(fresh_coid)[1:3] == [S.SUBMITTED, S.ACKNOWLEDGED]
        assert bot.updates(fresh_coid)[1].source is RECONCILIATION
        assert len(bot.venue_orders("unsent-fresh")) == 1
        assert bot.venue_orders("unsent-stale") == []
        # The strategy sends the fresh one again after the restart: still one order.
        bot.place(fresh)
        assert bot.denial("unsent-fresh").rule == "duplicate_intent"
        assert len(bot.venue_orders("unsent-fresh")) == 1


def _looked_for_until(bot: Harness, coid: str, status: OrderStatus) -> OrderUpdated:
    """Let the reconciliations that look for ``coid`` again run, one at a time, until it is
    ``status`` (a pass publishes what it changed before it completes)."""
    for _ in range(8):
        done = len(bot.of(ReconciliationCompleted))
        if status in bot.statuses(coid):
            break
        wait_drained(bot.executor)  # the next look is armed before the clock moves
        bot.clock.advance(2.0)
        bot.wait(
            lambda _, done=done: (  # type: ignore[misc]
                len(bot.of(ReconciliationCompleted)) > done or status in bot.statuses(coid)
            ),
            f"the next reconciliation, or {coid} {status}",
        )
    return bot.wait_status(coid, status)


def test_a_sent_order_whose_answer_was_lost_is_settled_by_a_late_fill_past_its_ttl(
    sim: SimExchange, tmp_path: Path
) -> None:
    # Trading-core review, finding 6: the user channel down, the create's answers lost, the
    # venue's lists lagging, and the reconciliation after the loss past the TTL. One miss
    # used to expire it, and its fill was never read.
    with running(start_executor(sim, tmp_path / "j.sqlite3", user_channel=False)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.sim.faults.delay_order_visibility(1.0)
        bot.sim.faults.lose_order_ack(4)
        bot.place(bot.intent("lost", ttl_s=1.0))
        coid = client_order_id("lost")
        bot.wait_status(coid, S.UNKNOWN)
        wait_drained(bot.executor)
        bot.clock.advance(5.0)  # the first look comes past the TTL, while the lists lag
        wait_drained(bot.executor)
        assert S.EXPIRED not in bot.statuses(coid)
        bot.until(lambda: bot.venue_orders("lost"), "the order to be listed")
        filled = _looked_for_until(bot, coid, S.FILLED)
        assert filled.booked_size == filled.filled_size > 0
        assert [f.client_order_id for f in bot.of(OrderFilled)] == [coid]
        assert len(bot.venue_orders("lost")) == 1


def test_an_intent_held_back_by_risks_halt_while_it_reads_the_journal_is_sent_once_after(
    sim: SimExchange, tmp_path: Path
) -> None:
    # Found by the chaos run: risk starts HALTED until the journal answered for the
    # operator's last command; that fail-closed HALTED cancelled journaled intents as if an
    # operator had halted, so whether one survived a crash depended on a race.
    clock = FakeClock()
    entry = make_intent(clock, "survives", ttl_s=30)
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda me: [recorded(entry, me)])
    restart = _restart_in(sim, path, clock, TradingState.HALTED, by_a_person=False)
    with running(restart) as bot:
        bot.wait_reconciled()
        coid = client_order_id("survives")
        assert bot.statuses(coid) == [S.PENDING_SUBMIT]  # held back, not cancelled
        bot.trading(TradingState.ACTIVE)
        bot.until(lambda: bot.state().trading_state == "active", "the executor to be ACTIVE")
        wait_idle(bot.system)  # and the portfolio's answer to the last pass has come
        clock.advance(2.0)
        bot.wait_status(coid, S.FILLED)
        assert len(bot.venue_orders("survives")) == 1


@pytest.mark.parametrize("status", [None, S.SUBMITTED])
def test_a_bot_halted_at_restart_sends_no_journaled_intent(
    sim: SimExchange, tmp_path: Path, status: OrderStatus | None
) -> None:
    # The process died with an intent journaled (and maybe sent, without an answer) but not
    # at the venue; it restarts HALTED (an operator's halt, read back by risk).
    clock = FakeClock()
    entry = make_intent(clock, "journaled-entry", ttl_s=30)
    path = tmp_path / "j.sqlite3"
    seed_journal(
        path,
        lambda me: [recorded(entry, me)] + ([journaled_update(entry, status)] if status else []),
    )
    with running(_restart_in(sim, path, clock, TradingState.HALTED)) as bot:
        bot.wait_reconciled()
        clock.advance(31.0)  # past its TTL: polls and reconciliations come and go
        bot.wait_reconciled(2)
        coid = client_order_id("journaled-entry")
        settled = _looked_for_until(bot, coid, S.CANCELLED if status is None else S.EXPIRED)
        assert settled.source is RECONCILIATION
        assert bot.state().submitted == 0
        assert bot.venue_orders("journaled-entry") == []


def test_a_book_the_venue_disagrees_with_is_corrected_by_the_portfolio_and_said(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    venue.create_order(_market("by-hand-1", PERP, "BUY", "2"))
    path = tmp_path / "j.sqlite3"
    # A position journaled without the fills behind it: the fills are the book's truth.
    seed_journal(path, lambda _: [_position_changed(PERP, "1")])
    with running(start_executor(sim, path)) as bot:
        bot.wait_reconciled()
        bot.wait(lambda _: any(c.is_correction for c in bot.of(PositionChanged)), "the correction")
        (correction,) = [c for c in bot.of(PositionChanged) if c.is_correction]
        assert f"{PERP}: quantity 0 corrected to the venue's 2" in correction.cause
        (account,) = bot.of(AccountReconciled)
        perp = next(p for p in account.positions if p.symbol == PERP)
        assert (perp.quantity, perp.contract_size) == (Decimal(2), Decimal("0.01"))
        assert account.startup
        assert account.equity is not None
        assert account.equity > 0
        assert account.liquidation_buffer_pct is not None
        # In REDUCING, the adopted long may be closed but not grown.
        bot.trading(TradingState.REDUCING, "reconciled")
        bot.place(bot.intent("close", symbol=PERP, side=Side.SELL, size="2", mark="68900"))
        bot.wait_status(client_order_id("close"), S.FILLED)
        bot.place(bot.intent("grow", symbol=PERP, side=Side.BUY, size="1", mark="68900"))
        assert bot.denial("grow").rule == "reduce_only"


def test_the_venues_liquidation_buffer_is_a_share_the_risk_rule_can_bite_on(
    tmp_path: Path,
) -> None:
    # 120 contracts at 9x: about 83,000 USD on 10,000 USD of futures cash, in the intraday
    # margin window (Wednesday noon US Eastern).
    clock = FakeClock(wall_start_ns=1_772_643_600 * 10**9)  # 2026-03-04 17:00 UTC
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=9)
    with SimExchange(config, clock=clock) as sim, contextlib.closing(sim_rest(sim, clock)) as venue:
        venue.create_order(_market("by-hand", PERP, "BUY", "120", leverage="9"))
        summary = venue.cfm_balance_summary()
        buffer, threshold = summary.liquidation_buffer_amount, summary.liquidation_threshold
        with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
            bot.wait_reconciled()
            (account,) = bot.of(AccountReconciled)
    share = account.liquidation_buffer_pct
    assert share == buffer / (buffer + threshold)
    assert Decimal("0.5") < share < Decimal("0.7")  # the venue says "141" (percent of margin)
    assert account.futures is not None
    assert account.futures.buffer_share == share
    assert account.futures.equity == buffer + threshold  # the futures account's, not the whole
    rule = LiquidationBuffer(RiskConfig(min_liquidation_buffer_pct=Decimal("0.6")))
    facts = OrderCheck(
        intent=make_intent(FakeClock(), "more", symbol=PERP, size="1"), mark=Decimal(68_900),
        mark_age_s=0.0, position=Decimal(120), product=future(), equity=account.equity,
        futures=account.futures,
    )  # fmt: skip
    assert "projected liquidation buffer" in str(rule.check(facts))


def _position_changed(symbol: str, quantity: str) -> PositionChanged:
    return PositionChanged(
        message_id=f"pos-{symbol}", ts_created_ns=0, correlation_id=None, cause="fill",
        position=PositionView(
            symbol=symbol, quantity=Decimal(quantity), average_entry_price=Decimal(68_000),
            contract_size=Decimal("0.01"), mark=None, realized_pnl=Decimal(0),
            unrealized_pnl=Decimal(0), fees=Decimal(0), funding=Decimal(0),
        ),
    )  # fmt: skip


def _corrections(bot: Harness, symbol: str) -> list[PositionChanged]:
    return [c for c in bot.of(PositionChanged) if c.is_correction and c.position.symbol == symbol]


def test_a_fill_the_venue_lists_late_is_counted_once_not_again_by_the_reconciliation(
    sim: SimExchange, tmp_path: Path
) -> None:
    # The order is FILLED (user channel) but its fills cannot be read yet. It is not finished
    # for anyone until they are booked, and a reconciliation meanwhile corrects nothing for
    # its symbol: adopting the venue's 2 and then booking the late fill made 4 by the books.
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        bot.until(lambda: bot.state().user_feed_healthy, "the user channel to be healthy")
        sim.faults.http_error(500, count=10_000, path="/orders/historical/fills")
        bot.trading(TradingState.ACTIVE)
        coid = client_order_id("buy")
        bot.place(bot.intent("buy", symbol=PERP, size="2"))
        bot.until(
            lambda: bot.state().unsettled.get(coid) == "awaiting fills: 0 of 2 booked",
            "the venue's FILLED, its fills not booked",
        )
        assert bot.state().orders[coid] == "filled"  # at the venue, so not polled again
        assert S.FILLED not in bot.statuses(coid)  # but in flight for everyone
        bot.clock.advance(30.0)  # the periodic reconciliation, while the fills lag
        bot.wait_reconciled(2)
        assert PERP in bot.of(AccountReconciled)[-1].unsettled
        assert _corrections(bot, PERP) == []
        assert bot.state().positions.get(PERP, 0) == 0  # nothing booked yet
        sim.faults.clear()
        bot.clock.advance(2.0)  # the next poll reads the fills
        settled = bot.wait_status(coid, S.FILLED)
        assert settled.settled
        assert [f.size for f in bot.of(OrderFilled)] == [Decimal(2)]
        assert bot.state().positions[PERP] == 2
        bot.clock.advance(30.0)
        bot.wait_reconciled(3)
        assert _corrections(bot, PERP) == []
        assert bot.state().positions[PERP] == 2


def test_periodic_reconciliation_corrects_the_book_to_what_changed_at_the_venue(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        bot.wait_reconciled()
        venue.create_order(_market("by-hand-2", PERP, "BUY", "3"))  # not the bot's doing
        bot.clock.advance(30.0)
        assert not bot.wait_reconciled(2).startup
        bot.wait(lambda _: bool(_corrections(bot, PERP)), "the correction")
        (correction,) = _corrections(bot, PERP)
        assert f"{PERP}: quantity 0 corrected to the venue's 3" in correction.cause
        assert bot.state().positions[PERP] == 3


def test_an_unfinished_startup_keeps_orders_out_and_is_retried(
    sim: SimExchange, tmp_path: Path
) -> None:
    sim.faults.http_error(500, count=10_000, path="/market/products")
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        failed = bot.wait_reconciled(success=False)
        assert failed.startup
        assert "500" in failed.error
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("too-early"))
        assert bot.denial("too-early").rule == "reconciliation_pending"
        sim.faults.clear()
        bot.clock.advance(1.0)  # the first retry comes after a second
        bot.wait_reconciled()
        bot.place(bot.intent("in-time"))
        bot.wait_status(client_order_id("in-time"), S.FILLED)
        assert bot.venue_orders("too-early") == []


def test_an_order_resting_across_a_restart_is_followed_again(
    sim: SimExchange, tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    clock = FakeClock()
    with running(start_executor(sim, path, clock=clock)) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("resting", limit="60000", tif=TimeInForce.GTC))
        bot.wait_status(client_order_id("resting"), S.ACKNOWLEDGED)
        bot.journaled(client_order_id("resting"), S.ACKNOWLEDGED)
    with running(start_executor(sim, path, clock=clock)) as bot:
        done = bot.wait_reconciled()
        assert bot.state().orders == {client_order_id("resting"): "acknowledged"}
        # Risk (a new process's, which knows of no order) hears of it before the pass ends,
        # so it counts what the order may still buy against the next intents.
        (held,) = bot.updates(client_order_id("resting"))
        assert (held.status, held.source) == (S.ACKNOWLEDGED, RECONCILIATION)
        assert bot.probe.events.index(held) < bot.probe.events.index(done)
        bot.trading(TradingState.HALTED, "operator")
        bot.executor.tell(CancelAllOrders(message_id="ca", ts_created_ns=0, reason="operator"))
        bot.wait_status(client_order_id("resting"), S.CANCELLED)


def test_a_journal_that_does_not_answer_keeps_orders_out(sim: SimExchange, tmp_path: Path) -> None:
    silent = Probe()  # takes ReadOrders and never answers
    mute = ChildSpec(name="journal", factory=lambda ctx: Subscriber(context=ctx, probe=silent))
    with running(
        start_executor(sim, tmp_path / "j.sqlite3", journal=mute, wait_reconciled=False)
    ) as bot:
        silent.wait_for(lambda told: any(isinstance(m, ReadOrders) for m in told))
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("unjournaled"))
        assert bot.denial("unjournaled").rule == "reconciliation_pending"
        bot.clock.advance(10.0)
        failed = bot.wait_reconciled(success=False)
        assert failed.error == "the journal did not answer ReadOrders within 10s"
        assert bot.venue_orders("unjournaled") == []
        assert not any(isinstance(m, RecordIntent) for m in silent.events)


def test_the_spot_wallet_the_bot_trades_from_is_not_its_position(
    sim: SimExchange, tmp_path: Path
) -> None:
    # The sim's wallet holds 1 BTC the bot never bought: it is not the bot's to sell.
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        bot.wait_reconciled()
        (account,) = bot.of(AccountReconciled)
        assert next(w for w in account.spot_wallets if w.symbol == SPOT).quantity == 1
        bot.trading(TradingState.REDUCING, "test")
        bot.place(bot.intent("sell-the-wallet", side=Side.SELL, size="0.5"))
        assert bot.denial("sell-the-wallet").rule == "reduce_only"
        assert bot.venue_orders("sell-the-wallet") == []
        assert _corrections(bot, SPOT) == []


def test_a_spot_position_is_what_the_bots_fills_bought(sim: SimExchange, tmp_path: Path) -> None:
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        bot.wait_reconciled()
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("buy", size="0.001"))
        bot.wait_status(client_order_id("buy"), S.FILLED)
        bot.clock.advance(30.0)
        bot.wait_reconciled(2)
        assert _corrections(bot, SPOT) == []
        assert bot.state().positions[SPOT] == Decimal("0.001")


def test_an_intent_the_journal_never_confirms_expires_unsent_past_its_ttl(
    sim: SimExchange, tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda _: [])  # an empty journal file to reconcile from
    lossy = Probe()  # answers the reads, takes RecordIntent and never confirms it
    with running(start_executor(sim, path, journal=recorder_spec("journal", lossy))) as bot:
        bot.wait_reconciled()
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("lost", ttl_s=5.0))
        lossy.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
        bot.clock.advance(6.0)  # past the TTL: the next poll settles it
        expired = bot.wait_status(client_order_id("lost"), S.EXPIRED)
        assert expired.previous is S.PENDING_SUBMIT
        assert expired.reason == "the journal did not confirm the intent within its TTL: never sent"
        assert bot.venue_orders("lost") == []


def _reconciliations(bot: Harness, count: int, step_s: float = 30.0) -> None:
    """Let ``count`` more reconciliation passes run, each after the clock moved ``step_s``
    (the periodic pass is due every 30 s)."""
    for _ in range(count):
        done = len(bot.of(ReconciliationCompleted))
        wait_drained(bot.executor)
        bot.clock.advance(step_s)
        bot.until(lambda done=done: len(bot.of(ReconciliationCompleted)) > done, "a pass")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed_sim(clock: FakeClock) -> Iterator[SimExchange]:
    """An exchange on the test's clock (its orders' visibility included)."""
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=9)
    with SimExchange(config, clock=clock) as sim:
        yield sim


def test_an_acknowledged_order_the_venue_hides_stays_in_flight_until_it_shows_up_filled(
    timed_sim: SimExchange, clock: FakeClock, tmp_path: Path
) -> None:
    # Found by the stateful test's long run: settled as cancelled after five quick misses,
    # the hidden order let a reconciliation adopt the venue's position (its fill included),
    # and its fill was booked again when it showed up: the book held 2 where the venue held 1.
    executor = start_executor(timed_sim, tmp_path / "j.sqlite3", clock=clock, user_channel=False)
    with running(executor) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.sim.faults.delay_order_visibility(600.0)
        bot.place(bot.intent("hidden"))
        coid = client_order_id("hidden")
        bot.wait_status(coid, S.ACKNOWLEDGED)

        _reconciliations(bot, 8)  # past the misses that used to settle it (4 minutes)
        assert bot.statuses(coid)[-1] is S.ACKNOWLEDGED
        assert not bot.updates(coid)[-1].settled  # still in flight for risk and the strategy
        noticed = [c for d in bot.of(ReconciliationCompleted) for c in d.corrections]
        assert any(f"order {coid}: the venue no longer shows it; still in flight" in c
                   for c in noticed), noticed  # fmt: skip

        bot.clock.advance(400.0)  # the venue shows it, filled
        filled = _looked_for_until(bot, coid, S.FILLED)
        assert filled.booked_size == filled.filled_size > 0
        assert S.CANCELLED not in bot.statuses(coid)
        assert [f.client_order_id for f in bot.of(OrderFilled)] == [coid]


def test_an_acknowledged_order_the_venue_never_shows_again_is_settled_after_fifteen_minutes(
    timed_sim: SimExchange, clock: FakeClock, tmp_path: Path
) -> None:
    executor = start_executor(timed_sim, tmp_path / "j.sqlite3", clock=clock, user_channel=False)
    with running(executor) as bot:
        bot.trading(TradingState.ACTIVE)
        bot.sim.faults.delay_order_visibility(86_400.0)
        bot.place(bot.intent("gone"))
        coid = client_order_id("gone")
        bot.wait_status(coid, S.ACKNOWLEDGED)
        _reconciliations(bot, 5)  # the fifth miss in a row: it has vanished (2.5 minutes)
        _reconciliations(bot, 1, step_s=14 * 60.0)  # 14 minutes since
        assert S.CANCELLED not in bot.statuses(coid)
        _reconciliations(bot, 1, step_s=60.0)
        cancelled = bot.wait_status(coid, S.CANCELLED)
        assert cancelled.source is RECONCILIATION
        assert "has not shown this order in" in cancelled.reason
