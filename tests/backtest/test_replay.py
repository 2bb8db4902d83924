"""A recorded session replayed through the bot's own feed decoder decides as the live run did."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.backtest import replay_recording
from perpsbot.bot import ROOT
from perpsbot.cli import main
from perpsbot.clock import FakeClock
from perpsbot.data import (
    RecordedEnd,
    RecordedFrame,
    RecordedQuote,
    RecordingWriter,
    read_recording,
    read_recording_header,
)
from perpsbot.messages import OrderFilled, Side
from perpsbot.runtime.testing import eventually
from tests.bot.trading_tree import SYMBOL, TradingTree, trading_config, trading_tree

Decision = tuple[str, str, str, str]


def _decisions(journal: Path) -> list[Decision]:
    """Each intent the strategy sent: symbol, side, purpose and why (without the sizing,
    which follows the equity, which follows the fills' prices at each exchange)."""
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT symbol, side, purpose, reason FROM intents ORDER BY seq")
        return [
            (symbol, side, purpose, reason.split(";")[0]) for symbol, side, purpose, reason in rows
        ]


def _updates(frame: RecordedFrame) -> bool:
    """True for a frame that moves a book or a ticker (not a snapshot or a subscription)."""
    events = json.loads(frame.raw).get("events", [])
    return any(event.get("type") == "update" for event in events)


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
            _strategy_knows(bot, held=True)
            bot.move(0.005)
            bot.sample()
            bot.move(-0.015)  # through the 1% trailing stop
            bot.sample()
            bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
            _strategy_knows(bot, held=False)
            bot.sample()
    finally:
        writer.close(ended_ns=clock.time_ns())


def _strategy_knows(bot: TradingTree, *, held: bool) -> None:
    """Wait until the strategy has the fill's position and nothing in flight. A feed
    recording holds no fills, and the replay's exchange fills at once: a live sample taken
    before the fill reached the strategy (a loaded machine) would decide on what the replay
    cannot know (the trailing stop then starts from the live fill's price)."""

    def known() -> bool:
        state = bot.system.state(f"{ROOT}/strategy")
        return bool(state.positions.get(SYMBOL)) is held and not state.pending

    eventually(known, what=f"the strategy {'holding' if held else 'flat'}, nothing pending")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The live session's journal and its recording."""
    folder = tmp_path_factory.mktemp("session")
    live, recording = folder / "live.sqlite3", folder / "feed.jsonl.gz"
    _live_session(live, recording)
    return live, recording


def test_a_recorded_session_replayed_through_the_feed_decoder_decides_as_the_live_run_did(
    session: tuple[Path, Path], tmp_path: Path
) -> None:
    live, recording = session
    replayed = tmp_path / "replayed.sqlite3"

    result = replay_recording(
        trading_config(replayed), recording=recording, journal=replayed, seed=3
    )

    decided = _decisions(live)
    assert [(side, purpose) for _, side, purpose, _ in decided] == [
        ("BUY", "entry"), ("SELL", "exit"),
    ]  # fmt: skip
    assert result.frames == sum(
        1 for r in read_recording(recording) if isinstance(r, RecordedFrame)
    )
    assert _decisions(replayed) == decided


def test_a_session_whose_feed_came_late_replays_on_the_quotes_its_poller_took(
    session: tuple[Path, Path], tmp_path: Path
) -> None:
    """A live feed that connects after the first samples (a slow connection) leaves the
    windows to the REST poller until then: the replay must answer the poller with what the
    live one got, or its windows start at the move and see no cross."""
    live, recording = session
    header = read_recording_header(recording)
    records = list(read_recording(recording))
    frames = [r for r in records if isinstance(r, RecordedFrame)]
    quotes = [r for r in records if isinstance(r, RecordedQuote)]
    (end,) = [r for r in records if isinstance(r, RecordedEnd)]
    # The live poller's quotes came when its polls were answered, on a busy machine after
    # the first samples (or not at all, the feed having connected first): every sample before
    # the move needs a mark here, so the opening book's quote comes first.
    quotes = [_opening_quote(frames, header.started_ns), *quotes]
    came_ns = next(f.received_ns for f in frames if _updates(f))  # the move's first frame
    late = tmp_path / "late.jsonl.gz"
    writer = RecordingWriter(late, symbols=header.symbols, started_ns=header.started_ns)
    for quote in quotes:
        writer.quote(quote.product_id, quote.bid, quote.ask, quote.received_ns)
    for frame in frames:  # nothing came before the move (a feed connecting late), then all
        writer.frame(frame.raw, max(frame.received_ns, came_ns))
    writer.close(ended_ns=end.ended_ns)
    replayed = tmp_path / "replayed.sqlite3"

    result = replay_recording(trading_config(replayed), recording=late, journal=replayed, seed=3)

    assert _decisions(replayed) == _decisions(live)
    assert result.recorded_s == (end.ended_ns - header.started_ns) / 1e9


def _opening_quote(frames: list[RecordedFrame], at_ns: int) -> RecordedQuote:
    """The REST quote a poller would have taken at ``at_ns``: the opening book's best bid
    and ask (the price is flat until the move)."""
    levels = next(
        (event["product_id"], event["updates"])
        for frame in frames
        for event in json.loads(frame.raw).get("events", [])
        if event.get("type") == "snapshot"
    )
    product_id, updates = levels
    prices: dict[str, list[Decimal]] = {"bid": [], "offer": []}
    for update in updates:
        prices[update["side"]].append(Decimal(update["price_level"]))
    return RecordedQuote(
        product_id=product_id, bid=max(prices["bid"]), ask=min(prices["offer"]), received_ns=at_ns
    )


def test_a_replay_runs_the_sessions_timers_until_the_recording_ended_not_its_last_frame(
    session: tuple[Path, Path], tmp_path: Path
) -> None:
    _, recording = session
    frames = [r for r in read_recording(recording) if isinstance(r, RecordedFrame)]
    opening = [f for f in frames if f.received_ns == frames[0].received_ns]  # the snapshots
    quiet = tmp_path / "quiet.jsonl.gz"
    writer = RecordingWriter(quiet, symbols=(SYMBOL,), started_ns=frames[0].received_ns)
    for frame in opening:
        writer.frame(frame.raw, frame.received_ns)
    writer.close(ended_ns=frames[0].received_ns + 10 * 10**9)  # ten seconds without news
    replayed = tmp_path / "replayed.sqlite3"

    result = replay_recording(trading_config(replayed), recording=quiet, journal=replayed)

    assert result.recorded_s == 10.0
    samples_every_s = trading_config(replayed).market_data.update_interval_s
    assert result.counts.timers >= 10 / samples_every_s  # the mark window sampled throughout


def test_backtest_of_a_recording_replays_it_and_prints_what_it_played(
    session: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, recording = session
    journal = tmp_path / "replayed.sqlite3"
    config = tmp_path / "bot.toml"
    config.write_text(f'[market_data]\nsymbols = ["{SYMBOL}"]\n')

    code = main([
        "--log-level", "WARNING", "backtest", "--data", str(recording), "--config",
        str(config), "--journal", str(journal), "--json",
    ])  # fmt: skip

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] > 0
    assert summary["recorded_s"] > 0
    assert summary["journal"] == str(journal)
