"""The funding tests' tree: the trading tree of ``trading_tree`` holding one contract of the
exchange's BTC perpetual on a venue (Advanced Trade's CFM face, or the Global Derivatives
gateway), the bot and the exchange sharing one fake clock that starts on a Wednesday at 13:58
EST, and the venue's own figure of the funding it accrued.

The fixtures ``clock``, ``sim`` and ``bot`` are imported by the test modules; ``venue`` is
Advanced Trade unless a test parametrises it indirectly with :data:`VENUES`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import VenueLink
from tests.bot.control.global_tree import ENGINE_PERP, MARK, PERP, global_link
from tests.bot.control.trading_tree import TradingBot, trading_bot

START = datetime(2026, 3, 4, 18, 58, tzinfo=UTC)  # a Wednesday, 13:58 EST
#: The venues the funding tests run on, as ``venue`` names them.
VENUES = ("advanced_trade", "global")


def ns(hhmmss: str) -> int:
    """``hhmmss`` UTC on the test's day, in Unix nanoseconds."""
    hour, minute, second = map(int, hhmmss.split(":"))
    return int(START.replace(hour=hour, minute=minute, second=second).timestamp()) * 10**9


@attrs.frozen(kw_only=True)
class FundingVenue:
    """The venue the bot trades the perpetual on."""

    name: str
    symbol: str
    """The perpetual as this venue names it."""
    link: VenueLink | None
    """The bot's link to the venue (None: the exchange's Advanced Trade face)."""
    accrued: Callable[[], Decimal]
    """The funding the venue holds on the position, not yet in the cash (its own figures)."""


def _cfm_accrued(sim: SimExchange) -> Decimal:
    """The CFM position's unrealized PnL less what the price moved it (one contract of 0.01):
    its funding."""
    body = requests.get(f"{sim.rest_base_url}/cfm/positions/{ENGINE_PERP}", timeout=5).json()
    position = body["position"]
    moved = (Decimal(position["current_price"]) - Decimal(position["avg_entry_price"])) * Decimal(
        position["number_of_contracts"]
    )
    return Decimal(position["unrealized_pnl"]) - (moved * Decimal("0.01")).quantize(Decimal("0.01"))


@contextlib.contextmanager
def _open_venue(name: str, sim: SimExchange, clock: FakeClock) -> Iterator[FundingVenue]:
    if name == "advanced_trade":
        yield FundingVenue(
            name=name, symbol=ENGINE_PERP, link=None, accrued=lambda: _cfm_accrued(sim)
        )
        return
    if name != "global":
        raise ValueError(f"venue must be one of {VENUES}, was {name!r}")
    with global_link(sim, clock) as linked:
        gateway = linked.venue.gateway()  # the test's own look, through the same class
        try:

            def realized_funding() -> Decimal:
                (position,) = gateway.account(gateway.products([PERP])).positions
                assert position.accrued_funding is not None
                return position.accrued_funding

            yield FundingVenue(name=name, symbol=PERP, link=linked.link, accrued=realized_funding)
        finally:
            gateway.close()


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
def venue(
    request: pytest.FixtureRequest, sim: SimExchange, clock: FakeClock
) -> Iterator[FundingVenue]:
    with _open_venue(getattr(request, "param", "advanced_trade"), sim, clock) as opened:
        yield opened


@pytest.fixture
def bot(
    sim: SimExchange, clock: FakeClock, venue: FundingVenue, tmp_path: Path
) -> Iterator[TradingBot]:
    with running(sim, clock, venue, tmp_path / "j.sqlite3") as started:
        yield started


def running(
    sim: SimExchange, clock: FakeClock, venue: FundingVenue, journal_path: Path
) -> contextlib.AbstractContextManager[TradingBot]:
    """The trading tree on ``venue``, journaling to ``journal_path`` (a restart reuses it)."""
    return trading_bot(
        sim, journal_path, clock=clock, symbol=venue.symbol, mark=MARK, link=venue.link
    )


def at(bot: TradingBot, hhmmss: str) -> None:
    """Move the shared clock to ``hhmmss`` UTC, wait for a reconciliation read there, then
    give risk a cycle so pnl() shows its snapshot."""
    target = ns(hhmmss)
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


def hold_one_contract(bot: TradingBot, sim: SimExchange) -> None:
    """Buy one contract at a funding rate of 0.1 % (whole cents on one contract), and wait
    until the order is settled: a venue read while it is not books no funding for it. Where
    no user channel follows the order (the Global gateway here), the executor's next poll or
    reconciliation sees its fill: the clock moves to 18:58:30 for it."""
    sim.faults.funding_rate(ENGINE_PERP, "0.001")
    coid = client_order_id(bot.intent(size="1").intent_id)

    def status() -> str | None:
        rows = [r for r in bot.ops().orders() if r["client_order_id"] == coid]
        return rows[0]["status"] if rows else None

    eventually(lambda: status() in ("acknowledged", "filled"), timeout_s=10, what="the order sent")
    at(bot, "18:58:30")
    eventually(lambda: status() == "filled", timeout_s=10, what="the order filled and settled")


def funding(bot: TradingBot) -> Decimal:
    """The funding pnl() shows in its total row."""
    return next(row["funding"] for row in bot.ops().pnl() if row["symbol"] == "total")
