"""Funding the exchange accrues on a perp-style position reaches pnl(), the day's PnL that the
daily loss rule checks, and ``journal pnl``: from the venue's figures, at the funding hour and
across the twice-daily settlement. The bot and the exchange share one fake clock.

On the Global Derivatives venue the simulated gateway shows the funding as the position's
``realized_funding`` (the session's funding, not yet in the balance:
docs/venues/global-derivatives.md 1.13), which the gateway hands to the portfolio as the
venue's accrued funding; the funding hour is the same test there.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from tests.bot.control.funding_tree import (
    ENGINE_PERP,
    VENUES,
    FundingVenue,
    at,
    bot,
    clock,
    funding,
    hold_one_contract,
    ns,
    running,
    sim,
    venue,
)
from tests.bot.control.trading_tree import TradingBot

__all__ = ["bot", "clock", "sim", "venue"]  # the fixtures


def _cash(sim: SimExchange) -> Decimal:
    body = requests.get(f"{sim.rest_base_url}/cfm/balance_summary", timeout=5).json()
    return Decimal(body["balance_summary"]["cfm_usd_balance"]["value"])


@pytest.mark.parametrize("venue", VENUES, indirect=True)
def test_funding_at_the_hour_is_in_pnl_the_days_pnl_and_journal_pnl(
    bot: TradingBot, sim: SimExchange, venue: FundingVenue
) -> None:
    hold_one_contract(bot, sim)

    at(bot, "18:59:59")
    assert venue.accrued() == 0
    assert funding(bot) == 0
    today = bot.risk().daily_pnl

    at(bot, "19:00:00")  # the funding hour: a long pays at a positive rate

    product = requests.get(f"{sim.rest_base_url}/market/products/{ENGINE_PERP}", timeout=5).json()
    mid = Decimal(product["mid_market_price"])  # the mark the exchange charged at
    accrued = -(Decimal("0.01") * mid * Decimal("0.001")).quantize(Decimal("0.01"))
    assert venue.accrued() == accrued < 0
    assert funding(bot) == accrued
    assert bot.risk().daily_pnl == today + accrued  # what the daily loss limit is checked against
    with bot.reader() as reader:
        assert reader.pnl().total.funding == accrued
        assert reader.pnl(since_ns=ns("19:00:00")).total.funding == accrued
        assert reader.pnl(since_ns=ns("19:00:01")).total.funding == 0


def test_the_settlement_moves_funding_into_the_cash_and_the_bot_counts_it_once(
    bot: TradingBot, sim: SimExchange, venue: FundingVenue
) -> None:
    hold_one_contract(bot, sim)
    at(bot, "20:00:00")  # two funding hours: 19:00 and 20:00
    before = venue.accrued()
    assert before < 0
    at(bot, "20:59:59")
    assert funding(bot) == before
    cash = _cash(sim)

    at(bot, "21:00:00")  # 16:00 EST: settled into the cash, then this hour accrued

    assert _cash(sim) == cash + before
    after = venue.accrued()
    assert after < 0
    assert funding(bot) == before + after
    with bot.reader() as reader:
        assert reader.pnl().total.funding == before + after


def test_a_cold_start_keeps_the_funding_booked_and_counts_the_next_hour_once(
    sim: SimExchange, clock: FakeClock, venue: FundingVenue, tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    with running(sim, clock, venue, path) as bot:
        hold_one_contract(bot, sim)
        at(bot, "19:00:00")
        first = funding(bot)
        assert first == venue.accrued() < 0

    with running(sim, clock, venue, path) as bot:
        eventually(lambda: funding(bot) == first, what="the funding read back from the journal")
        at(bot, "20:00:00")  # the startup reading was the baseline; this hour counts once

        assert funding(bot) == venue.accrued() < first
