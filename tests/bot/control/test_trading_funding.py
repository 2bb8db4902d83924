"""Funding the exchange accrues on a perp-style position reaches pnl(), the day's PnL that the
daily loss rule checks, and ``journal pnl``: from the venue's figures, at the funding hour and
across the twice-daily settlement. The bot and the exchange share one fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from tests.bot.control.trading_tree import TradingBot, trading_bot

PERP = "BIP-20DEC30-CDE"
MARK = "68930"  # the bot's mark of it (the exchange moves only when stepped)
START = datetime(2026, 3, 4, 18, 58, tzinfo=UTC)  # a Wednesday, 13:58 EST


def _ns(hhmmss: str) -> int:
    hour, minute, second = map(int, hhmmss.split(":"))
    return int(START.replace(hour=hour, minute=minute, second=second).timestamp()) * 10**9


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start_ns=int(START.timestamp()) * 10**9)


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimExchange]:
    config = SimConfig(
        verify_auth=False, tick_interval_s=None, seed=5, balances=(("USD", Decimal(100_000)),)
    )
    with SimExchange(config, clock=clock) as sim:
        yield sim


@pytest.fixture
def bot(sim: SimExchange, clock: FakeClock, tmp_path: Path) -> Iterator[TradingBot]:
    with trading_bot(sim, tmp_path / "j.sqlite3", clock=clock, symbol=PERP, mark=MARK) as bot:
        yield bot


def _venue_accrued(sim: SimExchange) -> Decimal:
    """The funding the exchange holds unsettled on the position (its own figures)."""
    body = requests.get(f"{sim.rest_base_url}/cfm/positions/{PERP}", timeout=5).json()
    position = body["position"]
    moved = (Decimal(position["current_price"]) - Decimal(position["avg_entry_price"])) * Decimal(
        position["number_of_contracts"]
    )
    return Decimal(position["unrealized_pnl"]) - (moved * Decimal("0.01")).quantize(Decimal("0.01"))


def _cash(sim: SimExchange) -> Decimal:
    body = requests.get(f"{sim.rest_base_url}/cfm/balance_summary", timeout=5).json()
    return Decimal(body["balance_summary"]["cfm_usd_balance"]["value"])


def _at(bot: TradingBot, hhmmss: str) -> None:
    """Move the shared clock to ``hhmmss`` UTC, wait for a reconciliation read there, then
    give risk a cycle so pnl() shows its snapshot."""
    target = _ns(hhmmss)
    bot.clock.advance((target - bot.clock.time_ns()) / 1e9)
    with bot.reader() as reader:

        def read_after() -> bool:
            account = reader.last_account()
            return account is not None and account.ts_created_ns >= target

        eventually(read_after, timeout_s=10, what=f"a reconciliation at {hhmmss}")
    cycle = bot.sample()
    eventually(
        lambda: f"as of risk's cycle {cycle}," in bot.ops().pnl().title,
        timeout_s=10,
        what=f"risk's snapshot of cycle {cycle}",
    )


def _hold_one_contract(bot: TradingBot, sim: SimExchange) -> None:
    """Buy one contract at a funding rate of 0.1 % (whole cents on one contract), and wait
    until the order is settled: a venue read while it is not books no funding for it."""
    sim.faults.funding_rate(PERP, "0.001")
    coid = client_order_id(bot.intent(size="1").intent_id)

    def settled() -> bool:
        return any(
            row["client_order_id"] == coid and row["status"] == "filled"
            for row in bot.ops().orders()
        )

    eventually(settled, timeout_s=10, what="the order filled and settled")


def _funding(bot: TradingBot) -> Decimal:
    return next(row["funding"] for row in bot.ops().pnl() if row["symbol"] == "total")


def _today(bot: TradingBot) -> Decimal:
    return bot.risk().daily_pnl


def test_funding_at_the_hour_is_in_pnl_the_days_pnl_and_journal_pnl(
    bot: TradingBot, sim: SimExchange
) -> None:
    _hold_one_contract(bot, sim)

    _at(bot, "18:59:59")
    assert _funding(bot) == 0
    today = _today(bot)

    _at(bot, "19:00:00")

    product = requests.get(f"{sim.rest_base_url}/market/products/{PERP}", timeout=5).json()
    mid = Decimal(product["mid_market_price"])  # the mark the exchange charged at
    accrued = -(Decimal("0.01") * mid * Decimal("0.001")).quantize(Decimal("0.01"))
    assert _venue_accrued(sim) == accrued < 0
    assert _funding(bot) == accrued
    assert _today(bot) == today + accrued  # what the daily loss limit is checked against
    with bot.reader() as reader:
        assert reader.pnl().total.funding == accrued
        assert reader.pnl(since_ns=_ns("19:00:00")).total.funding == accrued
        assert reader.pnl(since_ns=_ns("19:00:01")).total.funding == 0


def test_the_settlement_moves_funding_into_the_cash_and_the_bot_counts_it_once(
    bot: TradingBot, sim: SimExchange
) -> None:
    _hold_one_contract(bot, sim)
    _at(bot, "20:00:00")  # two funding hours: 19:00 and 20:00
    before = _venue_accrued(sim)
    assert before < 0
    _at(bot, "20:59:59")
    assert _funding(bot) == before
    cash = _cash(sim)

    _at(bot, "21:00:00")  # 16:00 EST: settled into the cash, then this hour accrued

    assert _cash(sim) == cash + before
    after = _venue_accrued(sim)
    assert after < 0
    assert _funding(bot) == before + after
    with bot.reader() as reader:
        assert reader.pnl().total.funding == before + after


def test_a_cold_start_keeps_the_funding_booked_and_counts_the_next_hour_once(
    sim: SimExchange, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    with trading_bot(sim, path, clock=clock, symbol=PERP, mark=MARK) as bot:
        _hold_one_contract(bot, sim)
        _at(bot, "19:00:00")
        first = _funding(bot)
        assert first == _venue_accrued(sim) < 0

    with trading_bot(sim, path, clock=clock, symbol=PERP, mark=MARK) as bot:
        eventually(lambda: _funding(bot) == first, what="the funding read back from the journal")
        _at(bot, "20:00:00")  # the startup reading was the baseline; this hour counts once

        assert _funding(bot) == _venue_accrued(sim) < first
