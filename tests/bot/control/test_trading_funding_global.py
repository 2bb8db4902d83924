"""Funding on the Global Derivatives venue: the simulated gateway accrues it on a perpetual
position and shows it as the position's ``realized_funding`` (the session's funding, not yet in
the balance: docs/venues/global-derivatives.md 1.13); the gateway hands it to the portfolio
as the venue's accrued funding, so it reaches pnl() and ``journal pnl`` from the venue's figure.
The bot and the exchange share one fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue.gateway import VenueGateway
from tests.bot.control.global_tree import ENGINE_PERP, MARK, PERP, GlobalLink, global_link
from tests.bot.control.trading_tree import TradingBot, trading_bot

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
def linked(sim: SimExchange, clock: FakeClock) -> Iterator[GlobalLink]:
    with global_link(sim, clock) as linked:
        yield linked


@pytest.fixture
def bot(
    sim: SimExchange, clock: FakeClock, linked: GlobalLink, tmp_path: Path
) -> Iterator[TradingBot]:
    path = tmp_path / "j.sqlite3"
    with trading_bot(sim, path, clock=clock, symbol=PERP, mark=MARK, link=linked.link) as bot:
        yield bot


@pytest.fixture
def gateway(linked: GlobalLink) -> Iterator[VenueGateway]:
    """The test's own look at the venue's figures, through the same gateway class."""
    gateway = linked.venue.gateway()
    try:
        yield gateway
    finally:
        gateway.close()


def _venue_funding(gateway: VenueGateway) -> Decimal | None:
    (position,) = gateway.account(gateway.products([PERP])).positions
    return position.accrued_funding


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


def _funding(bot: TradingBot) -> Decimal:
    return next(row["funding"] for row in bot.ops().pnl() if row["symbol"] == "total")


def test_funding_the_global_venue_accrues_on_a_held_perpetual_is_in_pnl_and_journal_pnl(
    bot: TradingBot, sim: SimExchange, gateway: VenueGateway
) -> None:
    sim.faults.funding_rate(ENGINE_PERP, "0.001")
    coid = client_order_id(bot.intent(size="1").intent_id)

    def status() -> str | None:
        rows = [r for r in bot.ops().orders() if r["client_order_id"] == coid]
        return rows[0]["status"] if rows else None

    eventually(lambda: status() == "acknowledged", timeout_s=10, what="the order sent")
    # No user channel on this venue: the executor's next poll, or reconciliation, sees the fill.
    _at(bot, "18:58:30")
    eventually(lambda: status() == "filled", timeout_s=10, what="the order filled and settled")

    _at(bot, "18:59:59")
    assert _venue_funding(gateway) == 0
    assert _funding(bot) == 0
    today = bot.risk().daily_pnl

    _at(bot, "19:00:00")  # the funding hour: a long pays at a positive rate

    paid = _venue_funding(gateway)
    assert paid is not None
    assert paid < 0
    assert _funding(bot) == paid
    assert bot.risk().daily_pnl == today + paid
    with bot.reader() as reader:
        assert reader.pnl().total.funding == paid
        assert reader.pnl(since_ns=_ns("19:00:00")).total.funding == paid
