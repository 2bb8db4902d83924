"""A gap that trips the trailing stop (and a bearish cross) and the volatility breaker
together: the strategy's exit reaches the venue and fills (the breaker stops entries, not
exits; before, it HALTED and risk denied the exit)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.config import RiskConfig
from perpsbot.messages import OrderFilled, PositionChanged, Side, TradingState
from tests.bot.trading_tree import trading_config, trading_tree


def test_a_gap_that_trips_the_stop_and_the_breaker_together_closes_the_position(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    breaker = RiskConfig(
        volatility_window=5,
        volatility_warn=Decimal("0.02"),
        volatility_reduce=Decimal("0.03"),
        volatility_halt=Decimal("0.04"),
        daily_loss_limit_usd=Decimal(1_000),  # the gap's loss is not the subject
    )
    config = attrs.evolve(trading_config(path), risk=breaker)
    with trading_tree(path, config=config) as bot:
        bot.active()
        for _ in range(5):  # a flat, full window
            bot.sample()
        bot.move(0.05)  # a cross: the entry (returns 0, 0, 0, +5%: 0.025, calm enough)
        signals, entered = bot.sample()
        assert signals.signals[0].action == "buy"
        assert entered.state is TradingState.ACTIVE
        entry = bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")

        bot.move(-0.15)  # the gap: through the 1% stop, and past volatility_halt
        signals, gapped = bot.sample()
        assert signals.signals[0].action == "close"
        exit_fill = bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
        assert exit_fill.size == entry.size
        bot.wait(PositionChanged, lambda m: m.position.quantity == 0, "flat again")
        assert gapped.state is TradingState.REDUCING
        tripped, volatile = gapped.reasons
        assert tripped.startswith("volatility breaker tripped: BTC-USD volatility 0.08660")
        assert volatile.endswith("exceeds volatility_halt 0.04")
