"""The bot trades end to end on the simulated exchange: prices the test scripts cross, the
strategy's intent passes risk, the executor's order fills, positions, PnL and equity follow,
the trailing stop closes the position after a scripted fall, and the journal holds it all."""

from __future__ import annotations

from pathlib import Path

from perpsbot.ids import client_order_id
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    IntentPurpose,
    OrderFilled,
    OrderStatus,
    PositionChanged,
    Side,
    Signal,
    TradingState,
)
from tests.bot.trading_tree import SYMBOL, trading_tree

S = OrderStatus


def test_a_cross_buys_and_the_trailing_stop_sells_and_the_journal_holds_each_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    with trading_tree(path) as bot:
        start = bot.active()
        assert start.equity is not None
        for _ in range(5):  # the windows fill with a flat price: no signal
            signals, _ = bot.sample()
        assert signals.signals[0].signal is Signal.NEUTRAL

        bot.move(0.05)  # the short MA jumps 1.25% above the long one: a bullish cross
        signals, _ = bot.sample()
        (decided,) = signals.signals
        assert (decided.signal, decided.action) == (Signal.BULLISH, "buy")
        entry = bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
        assert entry.intent_id == decided.intent_id
        position = bot.wait(
            PositionChanged, lambda m: m.position.quantity > 0, "the long position"
        ).position
        assert position.quantity == entry.size
        assert position.average_entry_price == entry.price

        peak = bot.move(0.005)  # in the position's favour: unrealized gains, equity follows
        _, up = bot.sample()
        (held,) = up.positions
        assert held.quantity == entry.size
        assert held.unrealized_pnl == (peak - entry.price) * entry.size > 0
        assert up.realized_pnl == -entry.fee
        assert up.equity == start.equity + up.realized_pnl + up.unrealized_pnl

        bot.move(-0.015)  # through the 1% stop below the peak, not enough for a cross
        signals, _ = bot.sample()
        (decided,) = signals.signals
        assert decided.action == "close"
        assert "stop" in decided.reason
        exit_fill = bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
        assert exit_fill.size == entry.size
        bot.wait(PositionChanged, lambda m: m.position.quantity == 0, "flat again")
        _, flat = bot.sample()
        assert flat.positions == () or all(p.quantity == 0 for p in flat.positions)
        expected = (exit_fill.price - entry.price) * entry.size - entry.fee - exit_fill.fee
        assert flat.realized_pnl == expected
        assert flat.unrealized_pnl == 0
        assert flat.state is TradingState.ACTIVE

    # Every step is in the journal, in order (read as an operator would, read-only).
    with JournalReader(path) as journal:
        entry_trade, exit_trade = journal.trades(symbol=SYMBOL)
        assert entry_trade.intent is not None
        assert exit_trade.intent is not None
        assert (entry_trade.intent.purpose, exit_trade.intent.purpose) == (
            IntentPurpose.ENTRY,
            IntentPurpose.EXIT,
        )
        assert entry_trade.intent.intent_id == entry.intent_id
        assert entry_trade.fills == (entry,)
        assert exit_trade.fills == (exit_fill,)
        for trade, intent_id in ((entry_trade, entry.intent_id), (exit_trade, exit_fill.intent_id)):
            # Journaled before it was sent (write-ahead), then every transition in order.
            assert trade.client_order_id == client_order_id(intent_id)
            statuses = [u.status for u in journal.order_history(trade.client_order_id)]
            assert statuses[:2] == [S.PENDING_SUBMIT, S.SUBMITTED]
            assert statuses[-1] is S.FILLED
        recorded_entry = journal.intent(entry.intent_id)
        recorded_exit = journal.intent(exit_fill.intent_id)
        assert recorded_entry is not None
        assert recorded_exit is not None
        assert recorded_entry.ts_recorded_ns < recorded_exit.ts_recorded_ns
        assert journal.latest_positions()[SYMBOL].position.quantity == 0
        assert journal.pnl(symbol=SYMBOL).total.net == expected
        assert journal.trading_state_changes()[-1].state is TradingState.ACTIVE
        assert len(journal.fills()) == 2
