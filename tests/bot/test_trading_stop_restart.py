"""A trailing stop survives a restart of the bot: the new process trails from the peak the
old one reached, not from the entry price (before, a profitable position's stop fell back to
a percent under its entry at every restart)."""

from __future__ import annotations

from pathlib import Path

from perpsbot.bot import ROOT
from perpsbot.messages import OrderFilled, PositionChanged, Side
from perpsbot.runtime.testing import eventually
from tests.bot.trading_tree import scripted_exchange, trading_config, trading_tree


def test_a_trailing_stop_trails_from_the_peak_it_reached_before_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    config = trading_config(path)  # a 1% trailing stop
    with scripted_exchange() as sim:
        with trading_tree(path, config=config, sim=sim) as bot:
            bot.active()
            for _ in range(5):  # a flat, full window
                bot.sample()
            bot.move(0.05)  # a cross: the entry
            signals, _ = bot.sample()
            assert signals.signals[0].action == "buy"
            bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
            bot.wait(PositionChanged, lambda m: m.position.quantity > 0, "long")
            bot.move(0.03)  # the peak: 3% over the entry
            bot.sample()
            stop = bot.system.state(f"{ROOT}/strategy").stops[bot.symbol]
            bot.move(-0.008)  # off the peak, not through its stop
            signals, _ = bot.sample()
            assert signals.signals[0].action == "hold"
            clock = bot.clock

        with trading_tree(path, config=config, sim=sim, clock=clock) as bot:
            bot.active()
            # The journal's answer with the saved stops may come after the portfolio's
            # position, which seeds a stop at the entry until then.
            eventually(
                lambda: bot.system.state(f"{ROOT}/strategy").stops[bot.symbol] == stop,
                timeout_s=10.0,
                what="the stop read back from the journal",
            )
            # Through the peak's stop; a new process trailing from its first mark (0.8% under
            # the peak) would hold on.
            bot.move(-0.005)
            signals, _ = bot.sample()
            assert signals.signals[0].action == "close"
            assert "stop" in signals.signals[0].reason
            bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
