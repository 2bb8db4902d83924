"""The ``canary`` profile trades on a real account of any size: its entries are sized within
every cap it sets, so on a 250,000 USD account (where 5% of equity is 12,500 USD, past its
500 USD position cap) its first entry is placed, not denied."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.config import load_config
from perpsbot.messages import OrderDenied, OrderFilled, Side, Signal
from tests.bot.trading_tree import INTERVAL_S, SCRIPTED, trading_tree
from tests.support.keys import private_pem

D = Decimal


def test_canary_places_its_first_entry_on_a_250000_usd_paper_account(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    env = {
        "PERPSBOT_VENUE_API_KEY_NAME": "organizations/o/apiKeys/canary",
        "PERPSBOT_VENUE_API_PRIVATE_KEY": private_pem(),
        "PERPSBOT_VENUE_KIND": "sim",  # a rehearsal: the scripted exchange, not Coinbase
        "PERPSBOT_JOURNAL_PATH": str(path),
        # The scripted tree's pace: short windows, only the moves the test makes cross.
        "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": str(INTERVAL_S),
        "PERPSBOT_MARKET_DATA_STALE_AFTER_S": "60",
        "PERPSBOT_MARKET_DATA_SHORT_MA": "2",
        "PERPSBOT_MARKET_DATA_LONG_MA": "4",
        "PERPSBOT_STRATEGY_MA_CROSS_EPSILON_BPS": "100",
        "PERPSBOT_EXECUTION_RECONCILE_INTERVAL_S": "3600",
    }
    config = load_config(None, profile="canary", env=env, live=True)
    assert (config.risk.max_position_usd, config.strategy.position_fraction) == (500, D("0.05"))
    account = attrs.evolve(SCRIPTED, balances=(("USD", D(250_000)),), cfm_usd_balance=D(0))

    with trading_tree(path, config=config, sim_config=account) as bot:
        start = bot.active()
        assert start.equity == D(250_000)
        for _ in range(5):  # the windows fill with a flat price: no signal
            bot.sample()
        bot.move(0.05)  # a bullish cross
        signals, _ = bot.sample()
        (decided,) = signals.signals
        assert (decided.signal, decided.action) == (Signal.BULLISH, "buy"), decided.reason
        entry = bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")

    assert decided.reason.endswith("; 495.00 USD (capped by risk.max_position_usd)")
    assert D(490) < entry.size * entry.price <= D(500)
    assert bot.of(OrderDenied) == []
