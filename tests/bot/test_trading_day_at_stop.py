"""Risk journals the day's figures as it stops, and the next start's day continues from
them exactly, an open position's unrealized PnL included (counted once)."""

from __future__ import annotations

from pathlib import Path

from perpsbot.clock import FakeClock
from perpsbot.journal import JournalReader
from perpsbot.messages import OrderFilled, PositionChanged, Side
from perpsbot.sim import SimExchange
from tests.bot.trading_tree import SCRIPTED, trading_tree


def test_a_stop_with_a_position_journals_the_day_and_the_next_start_continues_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    clock = FakeClock()  # one business day across both processes
    with SimExchange(SCRIPTED) as sim:
        with trading_tree(path, clock=clock, sim=sim) as bot:
            bot.active()
            for _ in range(5):  # the windows fill with a flat price
                bot.sample()
            bot.move(0.05)  # a bullish cross: the bot buys
            bot.sample()
            entry = bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
            bot.wait(PositionChanged, lambda m: m.position.quantity > 0, "the long position")
            bot.move(0.005)  # in its favour: the day holds a gain not realized yet
            _, at_stop = bot.sample()
        assert at_stop.unrealized_pnl > 0
        assert at_stop.daily_pnl == at_stop.unrealized_pnl - entry.fee
        with JournalReader(path) as journal:
            journaled = journal.last_risk_snapshot()
        assert journaled is not None
        assert journaled.daily_pnl == at_stop.daily_pnl  # not the periodic one before it
        assert journaled.positions == at_stop.positions

        with trading_tree(path, clock=clock, sim=sim) as bot:
            resumed = bot.active()  # the same marks: nothing moved while it was stopped

    (position,) = resumed.positions
    assert position.quantity == entry.size
    assert position.unrealized_pnl == at_stop.unrealized_pnl
    assert resumed.daily_pnl == at_stop.daily_pnl
