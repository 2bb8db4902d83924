"""What the portfolio holds after a restart: the journal's fills, whatever the last
``PositionChanged`` said and however little the venue's wallet tells of the bot's share."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.actors import JournalActor
from perpsbot.clock import FakeClock
from perpsbot.config import JournalConfig
from perpsbot.ids import SequentialIds, client_order_id
from perpsbot.messages import (
    IntentPurpose,
    JournalSynced,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    PositionChanged,
    PositionView,
    Side,
    SyncJournal,
    TradingState,
    VenuePosition,
)
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import wait_drained
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient
from perpsbot.venue.orders import MarketIoc, OrderRequest, OrderSide
from perpsbot.venue.records import FillRecord
from tests.actors.execution.executor_harness import (
    SPOT,
    journaled_update,
    make_intent,
    recorded,
    running,
    seed_journal,
    start_executor,
)
from tests.actors.risk.risk_tree import Tree
from tests.actors.trading import D, account, bot_config, fill, of_type, products, reconciled
from tests.support.sim_clients import sim_rest

# -- a crash between an exit's fill and its position change ---------------------------------


def _market(intent: OrderIntent) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id(intent.intent_id), product_id=intent.symbol,
        side=OrderSide(intent.side.value), configuration=MarketIoc(base_size=intent.size),
    )  # fmt: skip


def _filled(intent: OrderIntent, venue_fill: FillRecord, venue_order_id: str) -> OrderFilled:
    return OrderFilled(
        message_id=f"fill-{venue_fill.entry_id}", ts_created_ns=0,
        correlation_id=intent.message_id, fill_id=venue_fill.entry_id,
        intent_id=intent.intent_id, client_order_id=client_order_id(intent.intent_id),
        venue_order_id=venue_order_id, symbol=intent.symbol, side=intent.side,
        price=venue_fill.price, size=venue_fill.size, fee=venue_fill.commission, ts_event_ns=0,
        purpose=intent.purpose,
    )  # fmt: skip


def _btc(venue: RestClient) -> Decimal:
    (held,) = [a.available for a in venue.accounts() if a.currency == "BTC"]
    return held


def test_an_exit_fill_journaled_without_its_position_change_leaves_no_phantom_long(
    tmp_path: Path,
) -> None:
    # Trading-core review, finding 5 (repro test_crash_between_fill_and_position.py): the
    # previous process bought 0.01 BTC and sold it; both fills were journaled, but it was
    # killed before the PositionChanged to 0 was, so the last one says long 0.01. The wallet
    # holds the owner's 1 BTC. On 7408014 the next start adopted a long 0.01 it had already
    # sold, and its exit would sell the owner's coins.
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(SimExchange(SimConfig(verify_auth=False, tick_interval_s=None)))
        clock = FakeClock()
        venue = stack.enter_context(contextlib.closing(sim_rest(sim, clock)))
        owners = _btc(venue)
        buy = make_intent(clock, "entry-1", size="0.01")
        sell = make_intent(clock, "exit-1", size="0.01", side=Side.SELL, purpose=IntentPurpose.EXIT)
        bought = venue.create_order(_market(buy))
        sold = venue.create_order(_market(sell))
        (buy_fill,) = venue.fills(order_ids=[bought.order_id])
        (sell_fill,) = venue.fills(order_ids=[sold.order_id])
        assert _btc(venue) == owners == 1  # none of it is the bot's now
        long = PositionChanged(
            message_id="pos-1", ts_created_ns=0, correlation_id=None,
            cause=f"fill {buy_fill.entry_id}",
            position=PositionView(
                symbol=SPOT, quantity=Decimal("0.01"), average_entry_price=buy_fill.price,
                contract_size=Decimal(1), mark=None, realized_pnl=Decimal(0),
                unrealized_pnl=Decimal(0), fees=buy_fill.commission, funding=Decimal(0),
            ),
        )  # fmt: skip
        path = tmp_path / "j.sqlite3"
        seed_journal(path, lambda me: [
            recorded(buy, me),
            attrs.evolve(journaled_update(buy, OrderStatus.FILLED, bought.order_id),
                         filled_size=Decimal("0.01")),
            _filled(buy, buy_fill, bought.order_id),
            long,
            recorded(sell, me),
            attrs.evolve(journaled_update(sell, OrderStatus.FILLED, sold.order_id),
                         filled_size=Decimal("0.01")),
            _filled(sell, sell_fill, sold.order_id),
            # killed here: the PositionChanged to 0 never reached the journal
        ])  # fmt: skip

        with running(start_executor(sim, path, clock=clock)) as bot:
            bot.wait_reconciled()
            wait_drained(bot.system.address("bot/portfolio"))  # it took the venue's account
            portfolio = bot.system.state("bot/portfolio")
            assert portfolio.ready
            assert portfolio.positions.get(SPOT, 0) == 0
            wait_drained(bot.executor)  # the portfolio told it the positions it read
            assert bot.state().positions.get(SPOT, 0) == 0
            told = [
                m.position.quantity for m in bot.of(PositionChanged) if m.position.symbol == SPOT
            ]
            assert set(told) <= {Decimal(0)}, f"the portfolio published {SPOT} {told}"

            # The exit the phantom long would have asked for never reaches the venue.
            bot.trading(TradingState.ACTIVE)
            exit_intent = bot.intent(
                "phantom-exit", side=Side.SELL, size="0.01", purpose=IntentPurpose.EXIT
            )
            bot.place(exit_intent)
            assert bot.denial("phantom-exit").rule == "reduce_only"
            assert bot.venue_orders("phantom-exit") == []
            assert _btc(venue) == owners


# -- the cost basis of a spot position across a restart --------------------------------------

DAILY_LOSS_LIMIT = D(1_000)


def _start(system: ActorSystem, clock: FakeClock, path: Path) -> Tree:
    """Risk and the portfolio with the real journal actor writing ``path``: the portfolio
    reads its book back from it at start."""
    tree = Tree(system, clock)
    config = bot_config(risk={"daily_loss_limit_usd": DAILY_LOSS_LIMIT})
    tree.start(
        attrs.evolve(config, journal=JournalConfig(path=path)),
        journal=lambda ctx: JournalActor(context=ctx),
    )
    return tree


def _journaled(tree: Tree, message: OrderFilled) -> None:
    """Tell a fill where the executor tells it: the portfolio, and the journal; then wait
    until the journal committed it."""
    tree.tell(message)
    journal = tree.system.address("bot/journal")
    journal.tell(message)
    sync = SyncJournal(
        message_id=f"sync-{message.fill_id}", ts_created_ns=0,
        reply_to=tree.system.address("bot/subscriber"),
    )  # fmt: skip
    journal.tell(sync)
    of_type(tree.published, JournalSynced, lambda m: m.correlation_id == sync.message_id)


def test_a_spot_position_keeps_its_cost_basis_across_a_restart_and_its_loss_trips_the_limit(
    system: ActorSystem, clock: FakeClock, later: list[ActorSystem], tmp_path: Path
) -> None:
    # Trading-core review, finding 4 (repro r_restart_spot_costbasis.py): 1 BTC bought at
    # 70,000 before the restart. On 7408014 the next process adopted it without an entry:
    # at 56,000 the day's PnL stayed 0, the daily loss limit never tripped, and selling it
    # realized 0.
    path = tmp_path / "journal.sqlite3"
    first = _start(system, clock, path)
    first.activate(mark=70_000, equity=100_000)
    _journaled(first, fill(Side.BUY, 1, 70_000, fill_id="bought-before-the-restart"))
    held = first.snapshot(2, 70_000).positions
    assert [(v.quantity, v.average_entry_price) for v in held] == [(1, 70_000)]
    system.shutdown()

    process = ActorSystem(
        "next", clock=FakeClock(wall_start_ns=clock.time_ns()), ids=SequentialIds("p"),
        watchdog_interval_s=None,
    )  # fmt: skip
    later.append(process)
    second = _start(process, clock, path)
    second.tell(products())
    second.tell(reconciled())
    # The venue's view at startup: the wallet holds the coin, with no entry price.
    wallet = VenuePosition(symbol=SPOT, quantity=D(1), average_entry_price=None, contract_size=D(1))
    second.tell(attrs.evolve(account(100_000), spot_wallets=(wallet,)))
    at_entry = second.snapshot(1, 70_000)
    assert [(v.quantity, v.average_entry_price) for v in at_entry.positions] == [(1, 70_000)]
    assert at_entry.state is TradingState.ACTIVE
    assert second.system.state("bot/portfolio").average_entry == {SPOT: Decimal(70000)}

    assert second.snapshot(2, 63_000).daily_pnl == D(-7_000)
    fallen = second.snapshot(3, 56_000)
    assert (fallen.daily_pnl, fallen.unrealized_pnl) == (D(-14_000), D(-14_000))
    assert fallen.state is TradingState.REDUCING
    assert any("daily loss" in reason for reason in fallen.reasons), fallen.reasons

    second.tell(fill(Side.SELL, 1, 56_000, fill_id="sold-after-the-restart"))
    sold = second.snapshot(4, 56_000)
    assert sold.positions == () or all(v.quantity == 0 for v in sold.positions)
    assert (sold.realized_pnl, sold.daily_pnl) == (D(-14_000), D(-14_000))
