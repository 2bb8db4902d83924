"""Startup and periodic reconciliation against the loopback exchange and a journal file."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    AccountReconciled,
    CancelAllOrders,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    PositionChanged,
    PositionView,
    RecordIntent,
    Side,
    SyncJournal,
    TimeInForce,
    TradingState,
    TransitionSource,
)
from perpsbot.runtime import ChildSpec
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import JwtSigner, RestClient, VenueRateLimiter
from perpsbot.venue.orders import LimitGtc, MarketIoc, OrderRequest, OrderSide
from tests.actors.conftest import Subscriber
from tests.actors.executor_harness import (
    PERP,
    SPOT,
    journaled_update,
    make_intent,
    no_wait,
    recorded,
    running,
    seed_journal,
    start_executor,
)
from tests.support.keys import make_credentials
from tests.support.probe import Probe

S = OrderStatus
RECONCILIATION = TransitionSource.RECONCILIATION


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=9)) as sim:
        yield sim


@pytest.fixture
def venue(sim: SimExchange) -> Iterator[RestClient]:
    """Places orders as a previous run of the bot (or a person) did."""
    clock = FakeClock()
    rest = RestClient(
        base_url=sim.rest_base_url, signer=JwtSigner(make_credentials()[0], clock=clock),
        limiter=VenueRateLimiter(clock=clock, wait=no_wait), wait=no_wait,
    )  # fmt: skip
    yield rest
    rest.close()


def _market(coid: str, symbol: str, side: str, size: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid, product_id=symbol, side=OrderSide(side),
        configuration=MarketIoc(base_size=Decimal(size)),
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


def _journaled_fill(intent: OrderIntent, fill_id: str, venue_order_id: str) -> OrderFilled:
    return OrderFilled(
        message_id=f"fill-{fill_id}", ts_created_ns=0, correlation_id=intent.message_id,
        fill_id=fill_id, intent_id=intent.intent_id,
        client_order_id=client_order_id(intent.intent_id), venue_order_id=venue_order_id,
        symbol=intent.symbol, side=intent.side, price=Decimal(68_000), size=intent.size,
        fee=Decimal(0), ts_event_ns=0,
    )  # fmt: skip


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
    with running(start_executor(sim, path, clock=clock)) as bot:
        done = bot.wait_reconciled()
        fresh_coid, stale_coid = client_order_id("unsent-fresh"), client_order_id("unsent-stale")
        assert bot.statuses(fresh_coid)[:2] == [S.SUBMITTED, S.ACKNOWLEDGED]
        assert bot.updates(fresh_coid)[0].source is RECONCILIATION
        expired = bot.wait_status(stale_coid, S.EXPIRED)
        assert expired.source is RECONCILIATION
        assert len(bot.venue_orders("unsent-fresh")) == 1
        assert bot.venue_orders("unsent-stale") == []
        assert any("intent unsent-fresh was not at the venue" in c for c in done.corrections)
        # The strategy sends the fresh one again after the restart: still one order.
        bot.trading(TradingState.ACTIVE)
        bot.place(fresh)
        assert bot.denial("unsent-fresh").rule == "duplicate_intent"
        assert len(bot.venue_orders("unsent-fresh")) == 1


def test_a_stale_journal_position_is_corrected_to_the_venues_and_said(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    venue.create_order(_market("by-hand-1", PERP, "BUY", "2"))
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda _: [_position_changed(PERP, "1")])
    with running(start_executor(sim, path)) as bot:
        done = bot.wait_reconciled()
        assert (
            "journal had BIP-20DEC30-CDE long 1, venue shows long 2: adopted the venue's"
            in done.corrections
        )
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


def _position_changed(symbol: str, quantity: str) -> PositionChanged:
    return PositionChanged(
        message_id=f"pos-{symbol}", ts_created_ns=0, correlation_id=None, cause="fill",
        position=PositionView(
            symbol=symbol, quantity=Decimal(quantity), average_entry_price=Decimal(68_000),
            contract_size=Decimal("0.01"), mark=None, realized_pnl=Decimal(0),
            unrealized_pnl=Decimal(0), fees=Decimal(0), funding=Decimal(0),
        ),
    )  # fmt: skip


def test_periodic_reconciliation_reports_drift_from_risks_positions(
    sim: SimExchange, venue: RestClient, tmp_path: Path
) -> None:
    with running(start_executor(sim, tmp_path / "j.sqlite3")) as bot:
        bot.wait_reconciled()
        bot.position(PERP, "5", contract_size="0.01")  # risk's (wrong) view
        bot.clock.advance(30.0)
        periodic = bot.wait_reconciled(2)
        assert not periodic.startup
        assert (
            "risk had BIP-20DEC30-CDE long 5, venue shows flat: adopted the venue's"
            in periodic.corrections
        )


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
        bot.wait_reconciled()
        assert bot.state()["orders"] == {client_order_id("resting"): "acknowledged"}
        bot.trading(TradingState.HALTED, "operator")
        bot.executor.tell(CancelAllOrders(message_id="ca", ts_created_ns=0, reason="operator"))
        bot.wait_status(client_order_id("resting"), S.CANCELLED)


def test_a_journal_that_does_not_answer_keeps_orders_out(sim: SimExchange, tmp_path: Path) -> None:
    silent = Probe()  # takes SyncJournal and never answers
    mute = ChildSpec(name="journal", factory=lambda ctx: Subscriber(context=ctx, probe=silent))
    with running(
        start_executor(sim, tmp_path / "j.sqlite3", journal=mute, wait_reconciled=False)
    ) as bot:
        silent.wait_for(lambda told: any(isinstance(m, SyncJournal) for m in told))
        bot.trading(TradingState.ACTIVE)
        bot.place(bot.intent("unjournaled"))
        assert bot.denial("unjournaled").rule == "reconciliation_pending"
        bot.clock.advance(10.0)
        failed = bot.wait_reconciled(success=False)
        assert failed.error == "the journal did not answer SyncJournal within 10s"
        assert bot.venue_orders("unjournaled") == []
        assert not any(isinstance(m, RecordIntent) for m in silent.events)
