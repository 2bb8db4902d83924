"""``perpsbot run --profile global-dev``: the bot trades paper money on the embedded exchange's
Global Derivatives gateway, and its journal holds the orders, fills and positions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot.config._profiles import GLOBAL_DEV_SYMBOLS
from perpsbot.errors import JournalNotFoundError, JournalSchemaError
from perpsbot.journal import JournalReader
from perpsbot.messages import OrderFilled, OrderStatus
from perpsbot.runtime.testing import eventually

JOURNAL = Path("var/global-dev/journal.sqlite3")
#: Short averages sampled often: the random walk crosses within seconds.
FAST = {
    "PERPSBOT_MARKET_DATA_SHORT_MA": "2",
    "PERPSBOT_MARKET_DATA_LONG_MA": "4",
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.5",
    "PERPSBOT_MARKET_DATA_POLL_INTERVAL_S": "0.5",
    "PERPSBOT_STRATEGY_MA_CROSS_EPSILON_BPS": "0",
}


def _filled(journal_path: Path) -> list[OrderFilled]:
    try:
        with JournalReader(journal_path) as journal:
            return [e for e in journal.book_events() if isinstance(e, OrderFilled)]
    except (JournalNotFoundError, JournalSchemaError):
        return []  # the bot has not created it yet


@pytest.mark.slow
def test_global_dev_places_an_order_that_fills_into_a_position_on_the_global_gateway(
    tmp_path: Path,
) -> None:
    bot = subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", "run", "--profile",
         "global-dev"],
        cwd=tmp_path, env={**os.environ, **FAST}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        (fill, *_) = eventually(
            lambda: _filled(tmp_path / JOURNAL), timeout_s=120.0, what="a fill in the journal"
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=60)
    assert bot.returncode == 0, output
    assert fill.symbol in GLOBAL_DEV_SYMBOLS
    with JournalReader(tmp_path / JOURNAL) as journal:
        order = journal.order(fill.client_order_id)
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert order.venue_order_id == fill.venue_order_id
        (moved, *_) = journal.position_changes(symbol=fill.symbol)
        assert moved.position.quantity == fill.size * fill.side.sign
