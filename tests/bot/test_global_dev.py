"""``perpsbot run --profile global-dev``: the bot trades paper money on the embedded exchange's
Global Derivatives gateway, and its journal holds the orders, fills and positions.

The market moves and the bot samples faster than the profile's defaults (the knobs a user has:
environment variables, as the ``dev`` profile's own test sets them), so the crosses, and the
round trips, come within seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot.config._profiles import GLOBAL_DEV_SYMBOLS
from perpsbot.errors import JournalNotFoundError, JournalSchemaError
from perpsbot.journal import JournalReader
from perpsbot.messages import IntentPurpose, OrderFilled, OrderStatus, Side
from perpsbot.runtime.testing import eventually

JOURNAL = Path("var/global-dev/journal.sqlite3")
#: Short averages sampled often, a market ten times as lively as the default, one seed.
FAST = {
    "PERPSBOT_MARKET_DATA_SHORT_MA": "2",
    "PERPSBOT_MARKET_DATA_LONG_MA": "5",
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2",
    "PERPSBOT_MARKET_DATA_POLL_INTERVAL_S": "0.2",
    "PERPSBOT_SIM_VOLATILITY": "0.0005",
    "PERPSBOT_SIM_SEED": "7",
}


def _filled(journal_path: Path) -> list[OrderFilled]:
    try:
        with JournalReader(journal_path) as journal:
            return [e for e in journal.book_events() if isinstance(e, OrderFilled)]
    except (JournalNotFoundError, JournalSchemaError):
        return []  # the bot has not created it yet


def _round_trips(journal_path: Path) -> set[tuple[str, str]]:
    """The (symbol, "long"/"short") positions the journal shows opened by a filled entry and
    closed by a filled exit after it."""
    try:
        with JournalReader(journal_path) as journal:
            trades = journal.trades()
    except (JournalNotFoundError, JournalSchemaError):
        return set()
    opened: dict[str, str] = {}
    done: set[tuple[str, str]] = set()
    for trade in trades:
        if trade.intent is None or trade.order is None:
            continue
        if trade.order.status is not OrderStatus.FILLED:
            continue
        symbol = trade.intent.symbol
        if trade.intent.purpose is IntentPurpose.ENTRY:
            opened[symbol] = "long" if trade.intent.side is Side.BUY else "short"
        elif symbol in opened:
            done.add((symbol, opened.pop(symbol)))
    return done


def _both_sides(journal_path: Path) -> set[tuple[str, str]]:
    trips = _round_trips(journal_path)
    return trips if {side for _, side in trips} == {"long", "short"} else set()


def _run(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """The bot in ``tmp_path``, its output into ``output.txt`` there (a pipe nobody reads
    while it runs would fill and block it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPSBOT_")}
    with (tmp_path / "output.txt").open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", "run", "--profile",
             "global-dev", *args],
            cwd=tmp_path, env={**env, **FAST}, stdout=output, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip


def _stop(bot: subprocess.Popen[str], tmp_path: Path) -> str:
    """SIGTERM (a clean stop); returns what the bot printed."""
    bot.send_signal(signal.SIGTERM)
    bot.wait(timeout=60)
    return (tmp_path / "output.txt").read_text()


@pytest.mark.slow
def test_global_dev_places_an_order_that_fills_into_a_position_on_the_global_gateway(
    tmp_path: Path,
) -> None:
    bot = _run(tmp_path)
    try:
        (fill, *_) = eventually(
            lambda: _filled(tmp_path / JOURNAL), timeout_s=120.0, what="a fill in the journal"
        )
    finally:
        output = _stop(bot, tmp_path)
    assert bot.returncode == 0, output
    assert fill.symbol in GLOBAL_DEV_SYMBOLS
    with JournalReader(tmp_path / JOURNAL) as journal:
        order = journal.order(fill.client_order_id)
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert order.venue_order_id == fill.venue_order_id
        (moved, *_) = journal.position_changes(symbol=fill.symbol)
        assert moved.position.quantity == fill.size * fill.side.sign


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_global_dev_for_240_seconds_opens_and_closes_a_long_and_a_short_and_journal_lists_them(
    tmp_path: Path,
) -> None:
    bot = _run(tmp_path, "--duration", "240")
    try:
        trips = eventually(
            lambda: _both_sides(tmp_path / JOURNAL),
            timeout_s=200.0,
            what="a long and a short opened and closed in the journal",
        )
    finally:
        output = _stop(bot, tmp_path)
    assert bot.returncode == 0, output
    assert {symbol for symbol, _ in trips} <= set(GLOBAL_DEV_SYMBOLS)

    listed = subprocess.run(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", "journal", "--journal",
         str(tmp_path / JOURNAL), "trades", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = [r for r in json.loads(listed.stdout)["trades"] if r["status"] == "filled"]
    seen = {(r["symbol"], r["side"], r["purpose"]) for r in rows}
    for symbol, side in trips:
        opening, closing = ("BUY", "SELL") if side == "long" else ("SELL", "BUY")
        assert (symbol, opening, "entry") in seen, (symbol, side, rows)
        assert (symbol, closing, "exit") in seen, (symbol, side, rows)
