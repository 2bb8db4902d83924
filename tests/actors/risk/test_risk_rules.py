"""Every per-order rule allows AT its limit and denies just past it, naming the numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from perpsbot.actors.risk._check import OrderCheck, first_denial
from perpsbot.actors.risk._rules import (
    DailyLoss,
    Halted,
    IntentExpired,
    KnownProduct,
    LiquidationBuffer,
    MarkFreshness,
    MaxExposure,
    MaxLeverage,
    MaxOrderNotional,
    MaxPositionNotional,
    MustReduce,
    OrderRate,
    SpotShort,
    order_rules,
)
from perpsbot.actors.risk._volatility import VolatilityBreaker, VolatilityLevel
from perpsbot.config import RiskConfig
from perpsbot.messages import FuturesAccount, IntentPurpose, MarginRates, Side, TradingState
from tests.actors.trading import D, future, intent, spot


def order(
    side: Side = Side.BUY, size: Decimal | str | int = 1, *, limit: str | None = None, **facts: Any
) -> OrderCheck:
    purpose = facts.pop("purpose", IntentPurpose.ENTRY)
    valid_until_ns = facts.pop("valid_until_ns", 2**62)
    symbol = facts.pop("symbol", "BTC-USD")
    fields: dict[str, Any] = {
        "mark": D(100),
        "mark_age_s": 1.0,
        "position": D(0),
        "product": spot(symbol),
        "equity": D(100_000),
    }
    return OrderCheck(
        intent=intent(
            side,
            size,
            symbol=symbol,
            limit=limit,
            purpose=purpose,
            valid_until_ns=valid_until_ns,
            leverage=facts.pop("leverage", None),
        ),
        **{**fields, **facts},
    )


def test_the_check_price_is_the_worse_of_mark_and_limit() -> None:
    assert order(limit="105").price == D(105)
    assert order(limit="95").price == D(100)
    assert order(limit="95", mark=None).price == D(95)


def test_halted_denies_everything_and_names_the_reasons() -> None:
    rule = Halted()
    assert rule.check(order(state=TradingState.REDUCING)) is None
    reason = rule.check(order(state=TradingState.HALTED, reasons=("halted by ops: maintenance",)))
    assert reason == "trading is HALTED (halted by ops: maintenance); BUY 1 BTC-USD refused"


def test_an_intent_is_allowed_until_its_deadline_and_denied_after() -> None:
    rule = IntentExpired()
    assert rule.check(order(valid_until_ns=5_000_000_000, now_ns=5_000_000_000)) is None
    reason = rule.check(order(valid_until_ns=5_000_000_000, now_ns=5_250_000_000))
    assert reason is not None
    assert "expired 0.250s ago" in reason


def test_an_unknown_or_untradable_product_is_denied() -> None:
    assert KnownProduct().check(order()) is None
    assert KnownProduct().check(order(product=None)) == (
        "no product data for BTC-USD yet (contract size unknown)"
    )
    assert "not tradable" in str(KnownProduct().check(order(product=spot(tradable=False))))


def test_reducing_allows_closing_exactly_and_denies_a_flip_or_an_increase() -> None:
    rule = MustReduce()
    reducing: dict[str, Any] = {"state": TradingState.REDUCING, "reasons": ("stale marks",)}
    assert rule.check(order(Side.SELL, 1, position=D(1), **reducing)) is None
    assert rule.check(order(Side.SELL, "1.00000001", position=D(1), **reducing)) == (
        "trading is REDUCING (stale marks); SELL 1.00000001 BTC-USD would not reduce the"
        " position of 1"
    )
    assert rule.check(order(Side.BUY, 1, position=D(1), **reducing)) is not None
    assert rule.check(order(Side.BUY, 2, position=D(-2), **reducing)) is None


def test_an_exit_must_reduce_even_when_active() -> None:
    rule = MustReduce()
    assert rule.check(order(Side.BUY, 1)) is None  # an entry, when ACTIVE
    assert rule.check(order(Side.SELL, 1, purpose=IntentPurpose.EXIT)) == (
        "exit SELL 1 BTC-USD would not reduce the position of 0"
    )


def test_open_orders_count_against_a_reduction() -> None:
    rule = MustReduce()
    facts: dict[str, Any] = {"position": D(1), "open_sell": D("0.5"), "purpose": IntentPurpose.EXIT}
    assert rule.check(order(Side.SELL, "0.5", **facts)) is None
    reason = rule.check(order(Side.SELL, "0.6", **facts))
    assert reason is not None
    assert "(open orders: buy 0, sell 0.5)" in reason


def test_a_mark_is_fresh_up_to_max_mark_age() -> None:
    rule = MarkFreshness(30.0)
    assert rule.check(order(mark_age_s=30.0)) is None
    assert rule.check(order(mark_age_s=30.001)) == (
        "mark for BTC-USD is 30.0s old, more than max_mark_age_s 30"
    )
    assert rule.check(order(mark=None, mark_age_s=None)) == "no mark for BTC-USD yet"


def test_order_notional_up_to_max_order_usd() -> None:
    rule = MaxOrderNotional(D(5_000))
    assert rule.check(order(size=50)) is None
    assert rule.check(order(size="50.0001")) == (
        "order notional 5,000.01 USD exceeds max_order_usd 5,000 for BTC-USD"
    )


def test_order_notional_is_priced_at_the_limit_when_it_is_worse() -> None:
    rule = MaxOrderNotional(D(5_000))
    assert rule.check(order(size=50, limit="100")) is None
    assert rule.check(order(size=50, limit="100.01")) is not None


def test_a_reduction_is_never_blocked_by_a_size_limit() -> None:
    rule = MaxOrderNotional(D(5_000))
    assert rule.check(order(Side.SELL, 80, position=D(100))) is None


def test_position_notional_up_to_max_position_usd() -> None:
    rule = MaxPositionNotional(D(10_000))
    assert rule.check(order(size=24, position=D(76))) is None
    assert rule.check(order(size=24, position=D(100))) == (
        "notional 12,400.00 USD exceeds max_position_usd 10,000 for BTC-USD"
    )


def test_a_flip_counts_the_resulting_position() -> None:
    rule = MaxPositionNotional(D(10_000))
    assert rule.check(order(Side.SELL, 200, position=D(100))) is None
    assert rule.check(order(Side.SELL, "200.01", position=D(100))) is not None


def test_open_orders_on_the_same_side_count_toward_the_position() -> None:
    rule = MaxPositionNotional(D(10_000))
    assert rule.check(order(size=50, open_buy=D(50))) is None
    assert rule.check(order(size=50, open_buy=D("50.01"))) is not None


def test_total_exposure_up_to_max_exposure_usd() -> None:
    rule = MaxExposure(D(5_000))
    assert rule.check(order(size=10, other_exposure=D(4_000))) is None
    assert rule.check(order(size="10.0001", other_exposure=D(4_000))) == (
        "exposure 5,000.01 USD exceeds max_exposure_usd 5,000 (BTC-USD 1,000.01 USD after this"
        " order)"
    )


def test_leverage_up_to_the_symbols_cap() -> None:
    rule = MaxLeverage(RiskConfig(max_leverage=D(3)))
    assert rule.check(order(size=30, equity=D(1_000))) is None
    assert rule.check(order(size="30.0001", equity=D(1_000))) == (
        "leverage 3.00x (3,000.01 USD on 1,000.00 USD equity) exceeds the cap 3x for BTC-USD"
    )


def test_the_per_symbol_and_the_venues_leverage_caps_apply() -> None:
    per_symbol = MaxLeverage(
        RiskConfig(max_leverage=D(3), max_leverage_per_symbol=(("BTC-USD", D(2)),))
    )
    assert per_symbol.check(order(size=20, equity=D(1_000))) is None
    assert "cap 2x" in str(per_symbol.check(order(size="20.01", equity=D(1_000))))
    venue = MaxLeverage(RiskConfig(max_leverage=D(3)))
    product = spot(max_leverage=D("1.5"))
    assert venue.check(order(size=15, equity=D(1_000), product=product)) is None
    assert "cap 1.5x" in str(venue.check(order(size="15.01", equity=D(1_000), product=product)))


def test_total_leverage_up_to_max_leverage() -> None:
    rule = MaxLeverage(RiskConfig(max_leverage=D(3)))
    assert rule.check(order(size=10, equity=D(1_000), other_exposure=D(2_000))) is None
    assert rule.check(order(size="10.01", equity=D(1_000), other_exposure=D(2_000))) == (
        "total leverage 3.00x (3,001.00 USD on 1,000.00 USD equity) exceeds max_leverage 3x"
    )


def test_an_intent_asking_for_more_leverage_than_the_cap_is_denied() -> None:
    rule = MaxLeverage(RiskConfig(max_leverage=D(3)))
    assert rule.check(order(leverage=D(3))) is None
    assert rule.check(order(leverage=D(4))) == "intent leverage 4x exceeds the cap 3x for BTC-USD"


def test_leverage_needs_a_known_equity() -> None:
    reason = MaxLeverage(RiskConfig()).check(order(equity=None))
    assert reason == "equity is unknown or not positive (None); leverage cannot be checked"


# Wednesday 2026-03-04, 12:00 US Eastern (EST): inside the intraday margin window.
NOON_ET = int(datetime(2026, 3, 4, 17, 0, tzinfo=UTC).timestamp()) * 10**9
RATES = MarginRates(
    intraday_long=D("0.10"), intraday_short=D("0.10"),
    overnight_long=D("0.25"), overnight_short=D("0.30"),
)  # fmt: skip


def _bip(**facts: Any) -> dict[str, Any]:
    bip = future(margin_rates=RATES, max_leverage=None)  # CFM: 0.01 BTC a contract, rates
    return {"symbol": bip.symbol, "product": bip, "now_ns": NOON_ET, **facts}


def test_an_orders_use_of_the_buffer_is_projected_on_the_futures_account_alone() -> None:
    # The review's repro (r_liquidation_buffer_denominator.py): 10,000 USD of futures cash and
    # 100,000 of spot USD (in the whole account's equity, not the futures account's), flat,
    # 10% intraday margin, a threshold of half the initial margin. The venue's share after
    # buying 100 and 130 contracts at 70,000: 0.650 and 0.545 (the rule projected 0.936 and
    # 0.917, from the whole account's equity at the leverage cap).
    facts = _bip(
        mark=D(70_000), equity=D(110_000),
        futures=FuturesAccount(buffer=D(10_000), threshold=D(0), maintenance_share=D("0.5")),
    )  # fmt: skip
    for contracts, venue_after in ((100, D("0.650")), (130, D("0.545"))):
        rule = LiquidationBuffer(
            RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=venue_after)
        )
        assert rule.check(order(size=contracts, **facts)) is None
        assert rule.check(order(size=contracts + 1, **facts)) is not None
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.6")))
    assert rule.check(order(size=130, **facts)) == (
        "projected liquidation buffer 0.5450 is below min_liquidation_buffer_pct 0.6 for"
        " BIP-20DEC30-CDE (the order adds 9,100.00 USD of initial margin at the intraday long"
        " margin rate 0.1, the liquidation threshold 0.50 of it; futures equity 10,000.00 USD)"
    )


def test_the_projection_starts_from_what_the_futures_account_holds_and_adds_only_growth() -> None:
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.15")))
    # Long 20 at 50,000 (10,000 USD, 1,000 of initial margin, 500 of threshold) on 5,000 USD
    # of futures equity: buffer 4,500. 14 more add 700 of initial margin, 350 of threshold:
    # 4,150 / 5,000 = 0.83.
    held = FuturesAccount(buffer=D(4_500), threshold=D(500), maintenance_share=D("0.5"))
    facts = _bip(mark=D(50_000), position=D(20), futures=held)
    limit = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.83")))
    assert limit.check(order(size=14, **facts)) is None
    assert limit.check(order(size=15, **facts)) is not None
    assert rule.check(order(Side.SELL, 5, **facts)) is None  # reduces: never denied
    # A flip to short 70 within the hour before the overnight window (15:30 ET), each side at
    # its overnight rate: 35,000 USD at 0.30 instead of 10,000 at 0.25, 8,000 more initial
    # margin, 4,000 more threshold: 500 / 5,000.
    closing = _bip(mark=D(50_000), position=D(20), futures=held, now_ns=NOON_ET + 12_600 * 10**9)
    reason = rule.check(order(Side.SELL, 90, **closing))
    assert reason is not None
    assert reason.startswith("projected liquidation buffer 0.1000 is below")
    assert "8,000.00 USD of initial margin at the overnight short margin rate 0.3, the" in reason


def test_until_the_venue_shows_its_maintenance_share_the_whole_initial_margin_counts() -> None:
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.15")))
    flat = FuturesAccount(buffer=D(10_000), threshold=D(0))
    facts = _bip(mark=D(50_000), futures=flat)
    # 1 - 500 x 0.1 x n / 10,000 >= 0.15: at most 170 contracts.
    assert rule.check(order(size=170, **facts)) is None
    assert "the liquidation threshold all of it (assumed)" in str(
        rule.check(order(size=171, **facts))
    )


def test_without_margin_rates_the_margin_is_taken_at_the_leverage_cap() -> None:
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(3), min_liquidation_buffer_pct=D("0.15")))
    facts = _bip(mark=D(50_000), futures=FuturesAccount(buffer=D(10_000), threshold=D(0)))
    facts["product"] = future(max_leverage=D(2))
    # 1 - 500 / 2 x n / 10,000 >= 0.15: at most 34 contracts.
    assert rule.check(order(size=34, **facts)) is None
    assert "at 1 / the leverage cap 2x" in str(rule.check(order(size=35, **facts)))


def test_a_futures_entry_needs_the_futures_accounts_equity() -> None:
    rule = LiquidationBuffer(RiskConfig())
    assert rule.check(order(size=1, **_bip(mark=D(50_000)))) == (
        "the futures account's equity (liquidation buffer plus threshold) must be positive to"
        " project the liquidation buffer for BIP-20DEC30-CDE, found none yet"
    )
    empty = _bip(mark=D(50_000), futures=FuturesAccount(buffer=D(0), threshold=D(0)))
    assert "found 0.00 USD" in str(rule.check(order(size=1, **empty)))


def test_a_futures_leverage_cap_is_one_over_the_margin_rate_that_applies_now() -> None:
    rule = MaxLeverage(RiskConfig(max_leverage=D(20)))
    facts = _bip(mark=D(50_000), equity=D(1_000))  # 500 USD a contract
    assert rule.check(order(size=20, **facts)) is None  # noon ET: 1 / 0.10 = 10x
    assert rule.check(order(size=21, **facts)) == (
        "leverage 10.50x (10,500.00 USD on 1,000.00 USD equity) exceeds the cap 10x for"
        " BIP-20DEC30-CDE (1 / the intraday long margin rate 0.1)"
    )
    hour = 3_600 * 10**9
    for late in (NOON_ET + 3 * hour, NOON_ET + 8 * hour, NOON_ET + 3 * 24 * hour):
        # 15:00 (the hour before the overnight window), 20:00, and Saturday noon ET.
        overnight = {**facts, "now_ns": late}
        assert rule.check(order(size=8, **overnight)) is None  # 1 / 0.25 = 4x
        reason = rule.check(order(size=9, **overnight))
        assert reason is not None
        assert "exceeds the cap 4x for BIP-20DEC30-CDE (1 / the overnight long margin" in reason
        wanted = rule.check(order(size=1, leverage=D(5), **overnight))
        assert wanted == f"intent leverage 5x exceeds {reason.split(' exceeds ')[1]}"
        assert rule.check(order(Side.SELL, 6, **overnight)) is None  # 1 / 0.30 = 3.33x
        assert "the cap 3.33x" in str(rule.check(order(Side.SELL, 7, **overnight)))
    rule = MaxLeverage(RiskConfig(max_leverage=D(3)))
    assert rule.check(order(size=7, **facts)) == (
        "leverage 3.50x (3,500.00 USD on 1,000.00 USD equity) exceeds the cap 3x for"
        " BIP-20DEC30-CDE"
    )  # the configured cap binds first


def test_spot_orders_have_no_liquidation_buffer() -> None:
    rule = LiquidationBuffer(RiskConfig())
    assert rule.check(order(size=1_000)) is None


def test_spot_sells_the_bots_holding_at_most() -> None:
    rule = SpotShort()
    assert rule.check(order(Side.SELL, 1, position=D(1))) is None
    assert rule.check(order(Side.SELL, "0.5", position=D(1), open_sell=D("0.5"))) is None
    assert rule.check(order(Side.SELL, "0.5", position=D(1), open_sell=D("0.6"))) == (
        "SELL 0.5 BTC-USD would sell more than the bot holds (1 and 0.6 in open sells):"
        " spot cannot be sold short"
    )
    assert rule.check(order(Side.SELL, "0.01")) == (
        "SELL 0.01 BTC-USD would sell more than the bot holds (0): spot cannot be sold short"
    )
    bip = future()
    assert rule.check(order(Side.SELL, 1, symbol=bip.symbol, product=bip)) is None


def test_the_daily_loss_is_allowed_at_the_limit_and_denied_past_it() -> None:
    rule = DailyLoss(D(100))
    assert rule.check(order(daily_pnl=D(-100))) is None
    assert rule.check(order(daily_pnl=D("-100.01"))) == (
        "daily loss 100.01 USD exceeds daily_loss_limit_usd 100"
    )
    assert rule.check(order(Side.SELL, 1, position=D(2), daily_pnl=D(-500))) is None


def test_the_order_rate_allows_the_last_order_of_the_minute_and_denies_the_next() -> None:
    rule = OrderRate(10)
    assert rule.check(order(recent_orders=9)) is None
    assert rule.check(order(recent_orders=10)) == (
        "10 orders in the last 60s already; max_orders_per_minute 10"
    )


def test_rules_are_checked_in_order_and_the_first_denial_wins() -> None:
    rules = order_rules(RiskConfig())
    denial = first_denial(rules, order(state=TradingState.HALTED, mark=None, mark_age_s=None))
    assert denial is not None
    assert denial.rule == "halted"
    denial = first_denial(rules, order(mark_age_s=31.0))
    assert denial is not None
    assert denial.rule == "mark_staleness"
    assert first_denial(rules, order(size="0.1")) is None


def test_volatility_levels_trip_just_past_each_threshold() -> None:
    breaker = VolatilityBreaker(20, D("0.005"), D("0.01"), D("0.02"))
    assert breaker.level(None) is VolatilityLevel.CALM
    assert breaker.level(D("0.005")) is VolatilityLevel.CALM
    assert breaker.level(D("0.00500001")) is VolatilityLevel.WARN
    assert breaker.level(D("0.01")) is VolatilityLevel.WARN
    assert breaker.level(D("0.01000001")) is VolatilityLevel.REDUCE
    assert breaker.level(D("0.02")) is VolatilityLevel.REDUCE
    assert breaker.level(D("0.02000001")) is VolatilityLevel.HALT


def test_volatility_is_the_stdev_of_sample_returns_over_a_full_window() -> None:
    breaker = VolatilityBreaker(3, D("0.005"), D("0.01"), D("0.02"))
    assert breaker.statistic([D(100), D(101)]) is None
    # Returns +1% and -1%: their sample standard deviation is sqrt(2) * 1%, not annualized.
    volatility = breaker.statistic([D(50), D(100), D(101), D("99.99")])
    assert volatility is not None
    assert abs(volatility - 0.0141421) < 1e-7
    description = breaker.describe("BTC-USD", volatility, VolatilityLevel.REDUCE)
    assert description == (
        "BTC-USD volatility 0.01414 (stdev of 2 sample returns) exceeds volatility_reduce 0.01"
    )


def test_volatility_exactly_at_a_threshold_is_allowed_and_just_past_it_trips() -> None:
    breaker = VolatilityBreaker(4, D("0.005"), D("0.01"), D("0.02"))
    # Returns 0, +2%, +4%: deviations -2%, 0, +2% from their mean, so the sample standard
    # deviation is sqrt((4 + 4) / 2) % = 2%, exactly volatility_halt (in binary floating point
    # 102 / 100 - 1 is a hair above 0.02, and so would be the statistic).
    at_halt = breaker.statistic([D(100), D(100), D(102), D("106.08")])
    assert breaker.level(at_halt) is VolatilityLevel.REDUCE
    past_halt = breaker.statistic([D(100), D(100), D(102), D("106.09")])
    assert breaker.level(past_halt) is VolatilityLevel.HALT
