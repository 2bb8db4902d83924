"""An exit whose order the venue already calls FILLED while its fills cannot be read yet stays
in flight for the whole bot until its fills are booked: the trailing stop, still triggered on
every sample meanwhile, sends no second exit. Once the fills can be read, they are booked, the
position is flat and the strategy is free to trade again.

Trading-core review, finding 1 (repro ``test_lagging_fills_double_exit.py`` and
``test_lagging_fills_futures_flip.py``): on 7408014 the exit was sent three times; on spot it
sold 0.0276 BTC of the owner's coins, on a CFM future it turned long 1 into short 2 with
``enable_shorts`` false.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

from perpsbot.bot import ROOT
from perpsbot.ids import client_order_id
from perpsbot.messages import OrderFilled, OrderUpdated, PositionChanged, Side
from perpsbot.runtime.testing import eventually, wait_drained
from perpsbot.venue import RestClient
from perpsbot.venue.records import OrderRecord
from tests.bot.trading_tree import TradingTree, trading_config, trading_tree
from tests.support.sim_clients import sim_rest

FILLS = "/orders/historical/fills"
FUTURE = "BIP-20DEC30-CDE"


def _venue(bot: TradingTree) -> contextlib.closing[RestClient]:
    """A REST client of the test's own: the venue's truth."""
    return contextlib.closing(sim_rest(bot.sim, bot.clock))


def _sells(venue: RestClient, symbol: str) -> list[OrderRecord]:
    return [o for o in venue.list_orders(product_ids=[symbol]) if o.side == "SELL"]


def _described(orders: list[OrderRecord]) -> list[tuple[str, str, Decimal]]:
    return [(o.client_order_id, o.status, o.filled_size) for o in orders]


def _through_the_order_path(bot: TradingTree) -> None:
    """Wait until whatever the strategy decided so far reached the venue or was refused:
    strategy -> risk -> executor (journals the intent first, then sends it)."""
    for name in ("strategy", "risk", "executor", "journal", "executor"):
        wait_drained(bot.system.address(f"{ROOT}/{name}"))


def _stop_out_while_fills_lag(bot: TradingTree) -> tuple[OrderFilled, str]:
    """Enter on a cross, let the price rise, then fall through the trailing stop while the
    venue's fill list answers 500: the entry's fill, and the exit's client order id once the
    venue's FILLED reached the executor, its fills not booked."""
    bot.active()
    for _ in range(5):
        bot.sample()
    bot.move(0.05)
    bot.sample()
    entry = bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
    bot.wait(PositionChanged, lambda m: m.position.quantity == entry.size, "the long position")
    bot.move(0.005)
    bot.sample()
    bot.sim.faults.http_error(500, count=10_000, path=FILLS)  # the fills lag from now on
    bot.move(-0.015)  # through the 1% stop below the peak
    signals, _ = bot.sample()
    (decided,) = signals.signals
    assert decided.action == "close", decided.reason
    assert decided.intent_id is not None
    coid = client_order_id(decided.intent_id)
    eventually(
        lambda: (
            bot.system.state(f"{ROOT}/executor")
            .unsettled.get(coid, "")
            .startswith("awaiting fills: 0 of")
        ),
        what=f"the executor to know the exit {coid} FILLED at the venue, its fills unread",
    )
    return entry, coid


def _samples_with_the_stop_still_triggered(bot: TradingTree) -> None:
    for _ in range(3):
        signals, _ = bot.sample()
        (decided,) = signals.signals
        assert decided.intent_id is None, f"a second exit was decided: {decided}"
    _through_the_order_path(bot)


def _fills_readable_again(bot: TradingTree, coid: str) -> OrderFilled:
    """Clear the fault and sample until the executor's next poll has read the exit's fills:
    booked, the position flat, the strategy free again."""
    bot.sim.faults.clear()
    for _ in range(4):  # past the executor's 2 s poll of fills that lag
        bot.sample()
    exit_fill = bot.wait(OrderFilled, lambda f: f.client_order_id == coid, "the exit's fill")
    settled = bot.wait(
        OrderUpdated, lambda u: u.client_order_id == coid and u.settled, "the exit settled"
    )
    assert settled.booked_size == settled.filled_size == exit_fill.size
    bot.wait(PositionChanged, lambda m: m.position.quantity == 0, "flat again")
    strategy = f"{ROOT}/strategy"
    eventually(
        lambda: bot.system.state(strategy).pending == {},
        what="the strategy to hold no pending intent",
    )
    assert bot.system.state(strategy).positions[bot.symbol] == 0
    assert bot.system.state(f"{ROOT}/portfolio").positions[bot.symbol] == 0
    _through_the_order_path(bot)
    return exit_fill


def _trades_again(bot: TradingTree) -> None:
    """The next cross is an entry again: nothing of the exit holds the strategy back."""
    bot.move(0.05)
    signals, _ = bot.sample()
    (decided,) = signals.signals
    assert (decided.action, decided.intent_id is not None) == ("buy", True), decided
    bot.wait(OrderFilled, lambda f: f.intent_id == decided.intent_id, "the new entry's fill")


def test_an_exit_whose_fills_lag_is_sent_once_and_sells_none_of_the_owners_coins(
    tmp_path: Path,
) -> None:
    with trading_tree(tmp_path / "journal.sqlite3") as bot, _venue(bot) as venue:
        (owners,) = [a.available for a in venue.accounts() if a.currency == "BTC"]
        assert owners == 1  # the owner's coin: none of it is the bot's to sell

        entry, coid = _stop_out_while_fills_lag(bot)
        _samples_with_the_stop_still_triggered(bot)
        assert _described(_sells(venue, bot.symbol)) == [(coid, "FILLED", entry.size)]
        assert [a.available for a in venue.accounts() if a.currency == "BTC"] == [owners]

        exit_fill = _fills_readable_again(bot, coid)
        assert exit_fill.size == entry.size
        assert _described(_sells(venue, bot.symbol)) == [(coid, "FILLED", entry.size)]
        assert [a.available for a in venue.accounts() if a.currency == "BTC"] == [owners]
        _trades_again(bot)


def test_a_futures_exit_whose_fills_lag_is_sent_once_and_never_turns_the_long_short(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    config = trading_config(path, symbol=FUTURE, enable_shorts=False)
    with trading_tree(path, config=config) as bot, _venue(bot) as venue:
        entry, coid = _stop_out_while_fills_lag(bot)
        assert entry.size == 1  # one contract
        _samples_with_the_stop_still_triggered(bot)
        assert _described(_sells(venue, FUTURE)) == [(coid, "FILLED", 1)]
        assert _venue_contracts(venue) == 0  # flat at the venue, never short

        exit_fill = _fills_readable_again(bot, coid)
        assert exit_fill.size == 1
        assert _described(_sells(venue, FUTURE)) == [(coid, "FILLED", 1)]
        assert _venue_contracts(venue) == 0
        _trades_again(bot)


def _venue_contracts(venue: RestClient) -> Decimal:
    return sum(
        (p.signed_contracts for p in venue.cfm_positions() if p.product_id == FUTURE), Decimal(0)
    )
