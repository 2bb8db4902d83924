"""The venue's margin windows, the leverage they allow, and the liquidation buffer an order uses,
checked against the loopback exchange's own figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from perpsbot.actors.risk._check import OrderCheck
from perpsbot.actors.risk._margin import (
    MarginWindow,
    initial_margin,
    initial_rate,
    leverage_cap,
    margin_window,
    project,
)
from perpsbot.actors.risk._rules import LiquidationBuffer
from perpsbot.clock import FakeClock
from perpsbot.config import RiskConfig
from perpsbot.messages import MarginRates, Side
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient
from perpsbot.venue.advanced_trade import futures_account, product_spec
from perpsbot.venue.orders import MarketIoc, OrderRequest, OrderSide
from tests.actors.trading import D, future, intent
from tests.support.sim_clients import sim_rest

PERP = "BIP-20DEC30-CDE"
RATES = MarginRates(
    intraday_long=D("0.1000185"), intraday_short=D("0.1000008"),
    overnight_long=D("0.245625"), overnight_short=D("0.306375"),
)  # fmt: skip


def utc(text: str) -> int:
    """``"2026-03-04 13:00"`` (UTC) as Unix nanoseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


@pytest.mark.parametrize(
    ("moment", "window"),
    [
        ("2026-01-07 12:59", MarginWindow.OVERNIGHT),  # Wednesday 07:59 EST
        ("2026-01-07 13:00", MarginWindow.INTRADAY),  # 08:00 EST
        ("2026-01-07 19:59", MarginWindow.INTRADAY),  # 14:59 EST
        ("2026-01-07 20:00", MarginWindow.CLOSING),  # 15:00 EST: the hour before 16:00
        ("2026-01-07 20:59", MarginWindow.CLOSING),
        ("2026-01-07 21:00", MarginWindow.OVERNIGHT),  # 16:00 EST
        ("2026-07-08 12:00", MarginWindow.INTRADAY),  # 08:00 EDT
        ("2026-07-08 11:59", MarginWindow.OVERNIGHT),
        ("2026-07-08 19:00", MarginWindow.CLOSING),  # 15:00 EDT
        ("2026-07-08 20:00", MarginWindow.OVERNIGHT),  # 16:00 EDT
        ("2026-01-10 17:00", MarginWindow.OVERNIGHT),  # Saturday noon EST
        ("2026-01-11 17:00", MarginWindow.OVERNIGHT),  # Sunday noon EST
        ("2026-01-12 13:00", MarginWindow.INTRADAY),  # Monday 08:00 EST
    ],
)
def test_the_intraday_window_is_weekdays_8_to_16_us_eastern(
    moment: str, window: MarginWindow
) -> None:
    assert margin_window(utc(moment)) is window


def test_the_stricter_rate_applies_in_the_hour_before_the_overnight_window() -> None:
    assert initial_rate(RATES, long=True, now_ns=utc("2026-01-07 19:59")) == (
        D("0.1000185"), "the intraday long margin rate 0.1000185"
    )  # fmt: skip
    assert initial_rate(RATES, long=False, now_ns=utc("2026-01-07 20:00")) == (
        D("0.306375"),
        "the overnight short margin rate 0.306375, the stricter within the hour before the"
        " overnight window",
    )
    assert initial_rate(RATES, long=True, now_ns=utc("2026-01-07 21:00")) == (
        D("0.245625"), "the overnight long margin rate 0.245625"
    )  # fmt: skip


def test_the_leverage_cap_is_one_over_the_rate_that_applies_rounded_down() -> None:
    product = future(margin_rates=RATES, max_leverage=None)
    intraday, overnight = utc("2026-01-07 15:00"), utc("2026-01-07 22:00")
    assert leverage_cap(D(20), product, long=True, now_ns=intraday) == (
        D("9.99"), "1 / the intraday long margin rate 0.1000185"
    )  # fmt: skip
    assert leverage_cap(D(20), product, long=True, now_ns=overnight)[0] == D("4.07")
    assert leverage_cap(D(20), product, long=False, now_ns=overnight)[0] == D("3.26")
    assert leverage_cap(D(3), product, long=True, now_ns=overnight) == (D(3), "")
    spot_like = future(max_leverage=D(2))  # no rates: the product's own limit
    assert leverage_cap(D(3), spot_like, long=True, now_ns=overnight) == (D(2), "")


INTRADAY = (D("9.99"), D("9.99"), D("700.1295"), D("700.0056"))
OVERNIGHT = (D("4.07"), D("3.26"), D("1719.375"), D("2144.625"))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-06 12:59:59", OVERNIGHT),  # Friday 07:59:59 EST
        ("2026-03-06 13:00:00", INTRADAY),  # 08:00 EST
        ("2026-03-06 19:59:59", INTRADAY),  # 14:59:59 EST
        ("2026-03-06 20:00:00", OVERNIGHT),  # 15:00 EST: the closing hour takes the stricter
        ("2026-03-06 20:59:59", OVERNIGHT),  # 15:59:59 EST
        ("2026-03-06 21:00:00", OVERNIGHT),  # 16:00 EST: the overnight window
        ("2026-03-07 17:00:00", OVERNIGHT),  # Saturday noon
        ("2026-03-09 11:59:59", OVERNIGHT),  # Monday 07:59:59 EDT: daylight saving began Sunday
        ("2026-03-09 12:00:00", INTRADAY),  # Monday 08:00 EDT
        ("2026-11-02 12:59:59", OVERNIGHT),  # Monday 07:59:59 EST: it ended Sunday
        ("2026-11-02 13:00:00", INTRADAY),  # 08:00 EST
    ],
)
def test_the_leverage_cap_and_the_margin_an_order_adds_switch_at_the_window_boundaries(
    moment: str, expected: tuple[Decimal, Decimal, Decimal, Decimal]
) -> None:
    product, now = future(margin_rates=RATES, max_leverage=None), utc(moment)
    long_cap, _ = leverage_cap(D(20), product, long=True, now_ns=now)
    short_cap, _ = leverage_cap(D(20), product, long=False, now_ns=now)
    # The liquidation buffer projects the initial margin an order adds: 10 contracts at 70,000.
    long_margin, _ = initial_margin(product, D(10), D(70_000), D(20), now)
    short_margin, _ = initial_margin(product, D(-10), D(70_000), D(20), now)
    assert (long_cap, short_cap, long_margin, short_margin) == expected


NOON_ET = utc("2026-03-04 17:00")  # a Wednesday: the intraday window


@pytest.fixture
def venue() -> Iterator[RestClient]:
    clock = FakeClock(wall_start_ns=NOON_ET)
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=11)
    with SimExchange(config, clock=clock) as sim:
        rest = sim_rest(sim, clock)
        yield rest
        rest.close()


def _buy(rest: RestClient, coid: str, contracts: int) -> None:
    rest.create_order(
        OrderRequest(
            client_order_id=coid, product_id=PERP, side=OrderSide.BUY,
            configuration=MarketIoc(base_size=Decimal(contracts)),
        )
    )  # fmt: skip


def test_the_projected_buffer_share_is_the_venues_after_the_order(venue: RestClient) -> None:
    # The review's repro through the loopback exchange: 10,000 USD of futures cash beside
    # 100,000 of spot USD, the intraday rate (noon ET, for the venue and the rule). A first buy
    # makes the venue show its maintenance share (half the initial margin).
    _buy(venue, "first", 10)
    spec = product_spec(venue.product(PERP))
    assert spec.margin_rates is not None
    for contracts in (90, 30):
        summary = venue.cfm_balance_summary()
        account = futures_account(summary)
        assert account.maintenance_share is not None
        assert abs(account.maintenance_share - D("0.5")) < D("0.0001")  # cents rounded
        assert summary.total_usd_balance > 10 * account.equity  # spot USD: not the futures'
        (quote,) = venue.best_bid_ask([PERP])
        assert quote.ask is not None
        position = venue.cfm_positions()[0].signed_contracts
        facts = OrderCheck(
            intent=intent(Side.BUY, contracts, symbol=PERP), mark=quote.ask, mark_age_s=0.0,
            position=position, product=spec, equity=summary.total_usd_balance,
            futures=account, now_ns=NOON_ET,
        )  # fmt: skip
        _buy(venue, f"buy-{contracts}", contracts)
        after = futures_account(venue.cfm_balance_summary()).buffer_share
        assert after is not None
        assert Decimal("0.4") < after < Decimal("0.8")
        # The rule's projection is within 0.01 of the venue's share (fees and the book's
        # depth aside): it allows the order at 0.01 below that share and denies it above.
        below = LiquidationBuffer(RiskConfig(min_liquidation_buffer_pct=after - D("0.01")))
        above = LiquidationBuffer(RiskConfig(min_liquidation_buffer_pct=after + D("0.01")))
        assert below.check(facts) is None
        assert above.check(facts) is not None


def test_the_liquidation_buffer_is_projected_on_the_futures_account_alone(
    venue: RestClient,
) -> None:
    # 10,000 USD of futures cash beside 100,000 USD of spot USD; 10 contracts held at noon ET.
    _buy(venue, "first", 10)
    summary = venue.cfm_balance_summary()
    account = futures_account(summary)
    spot_usd = summary.cbi_usd_balance
    assert spot_usd == Decimal(100_000)
    equity = summary.cfm_usd_balance + summary.unrealized_pnl  # the futures account's own
    assert (
        account.equity
        == equity
        == summary.liquidation_buffer_amount + (summary.liquidation_threshold)
    )
    assert Decimal(9_990) < equity < Decimal(10_000)  # less the fee and the spread
    # 100 more contracts at 70,000 add 100 x 0.01 x 70,000 x 0.1000185 = 7,001.30 USD of
    # initial margin; half of it is the liquidation threshold the venue shows (k = 0.5).
    added, _ = initial_margin(product_spec(venue.product(PERP)), D(100), D(70_000), D(20), NOON_ET)
    assert added == D("7001.295")
    projected = project(account, added)
    assert abs(projected.k - D("0.5")) < D("0.0001")
    by_hand = (summary.liquidation_buffer_amount - projected.k * added) / equity
    assert projected.share == by_hand
    assert D("0.6") < by_hand < D("0.62")
    # Counting the spot USD would have shown a buffer of about 0.97 and let the order through.
    whole = (summary.liquidation_buffer_amount + spot_usd - projected.k * added) / (
        equity + spot_usd
    )
    assert whole > D("0.96")
    rule = LiquidationBuffer(RiskConfig(min_liquidation_buffer_pct=D("0.65")))
    facts = OrderCheck(
        intent=intent(Side.BUY, 100, symbol=PERP), mark=D(70_000), mark_age_s=0.0,
        position=D(10), product=product_spec(venue.product(PERP)),
        equity=summary.total_usd_balance, futures=account, now_ns=NOON_ET,
    )  # fmt: skip
    reason = rule.check(facts)
    assert reason is not None
    assert f"projected liquidation buffer {by_hand:.4f} is below" in reason
    assert f"futures equity {equity:,.2f} USD" in reason
