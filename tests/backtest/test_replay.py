"""A recorded session replayed through the bot's own feed decoder decides as the live run did."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from perpsbot.backtest import replay_recording
from perpsbot.clock import FakeClock
from perpsbot.data import RecordingWriter
from perpsbot.messages import OrderFilled, Side
from tests.bot.trading_tree import SYMBOL, trading_config, trading_tree

Decision = tuple[str, str, str, str]


def _decisions(journal: Path) -> list[Decision]:
    """Each intent the strategy sent: symbol, side, purpose and why (without the sizing,
    which follows the equity, which follows the fills' prices at each exchange)."""
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT symbol, side, purpose, reason FROM intents ORDER BY seq")
        return [
            (symbol, side, purpose, reason.split(";")[0]) for symbol, side, purpose, reason in rows
        ]


def _live_session(journal: Path, recording: Path) -> None:
    """The trading tree on a scripted exchange, its market feed recorded: a bullish cross
    bought, then a fall through the trailing stop sold."""
    clock = FakeClock()
    writer = RecordingWriter(recording, symbols=(SYMBOL,), started_ns=clock.time_ns())
    try:
        with trading_tree(journal, clock=clock, recorder=writer) as bot:
            bot.active()
            for _ in range(5):  # the windows fill with a flat price
                bot.sample()
            bot.move(0.05)  # a bullish cross
            bot.sample()
            bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
            bot.move(0.005)
            bot.sample()
            bot.move(-0.015)  # through the 1% trailing stop
            bot.sample()
            bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
            bot.sample()
    finally:
        writer.close()


def test_a_recorded_session_replayed_through_the_feed_decoder_decides_as_the_live_run_did(
    tmp_path: Path,
) -> None:
    live, recording = tmp_path / "live.sqlite3", tmp_path / "feed.jsonl.gz"
    _live_session(live, recording)
    replayed = tmp_path / "replayed.sqlite3"

    counts = replay_recording(
        trading_config(replayed), recording=recording, journal=replayed, seed=3
    )

    decided = _decisions(live)
    assert [(side, purpose) for _, side, purpose, _ in decided] == [
        ("BUY", "entry"), ("SELL", "exit"),
    ]  # fmt: skip
    assert counts.points > 0
    assert _decisions(replayed) == decided
