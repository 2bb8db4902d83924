"""Every per-order rule allows AT its limit and denies just past it, naming the numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.actors._risk_rules import (
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
    OrderCheck,
    OrderRate,
    ReduceOnly,
    SpotShort,
    first_denial,
    order_rules,
)
from perpsbot.actors._volatility import VolatilityBreaker, VolatilityLevel
from perpsbot.config import RiskConfig
from perpsbot.messages import IntentPurpose, Side, TradingState
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
    rule = ReduceOnly()
    reducing: dict[str, Any] = {"state": TradingState.REDUCING, "reasons": ("stale marks",)}
    assert rule.check(order(Side.SELL, 1, position=D(1), **reducing)) is None
    assert rule.check(order(Side.SELL, "1.00000001", position=D(1), **reducing)) == (
        "trading is REDUCING (stale marks); SELL 1.00000001 BTC-USD would not reduce the"
        " position of 1"
    )
    assert rule.check(order(Side.BUY, 1, position=D(1), **reducing)) is not None
    assert rule.check(order(Side.BUY, 2, position=D(-2), **reducing)) is None


def test_an_exit_must_reduce_even_when_active() -> None:
    rule = ReduceOnly()
    assert rule.check(order(Side.BUY, 1)) is None  # an entry, when ACTIVE
    assert rule.check(order(Side.SELL, 1, purpose=IntentPurpose.EXIT)) == (
        "exit SELL 1 BTC-USD would not reduce the position of 0"
    )


def test_open_orders_count_against_a_reduction() -> None:
    rule = ReduceOnly()
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


def test_the_projected_liquidation_buffer_stays_at_or_above_the_minimum() -> None:
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(3), min_liquidation_buffer_pct=D("0.15")))
    bip = future()  # 0.01 BTC a contract
    facts: dict[str, Any] = {
        "symbol": bip.symbol,
        "product": bip,
        "mark": D(50_000),
        "equity": D(10_000),
        "liquidation_buffer_pct": D("0.5"),
    }
    # 0.5 - added / (3 * 10,000) >= 0.15: up to 10,500 USD, 21 contracts of 500 USD.
    assert rule.check(order(size=21, **facts)) is None
    assert rule.check(order(size=22, **facts)) == (
        "projected liquidation buffer 0.1333 is below min_liquidation_buffer_pct 0.15 for"
        " BIP-20DEC30-CDE (venue 0.5000, the order adds 11,000.00 USD at 3x on 10,000.00 USD"
        " equity)"
    )


def test_without_the_venues_buffer_it_is_estimated_from_the_exposure() -> None:
    rule = LiquidationBuffer(RiskConfig(max_leverage=D(3), min_liquidation_buffer_pct=D("0.15")))
    bip = future()
    facts: dict[str, Any] = {"symbol": bip.symbol, "product": bip, "mark": D(50_000)}
    facts |= {"equity": D(10_000), "other_exposure": D(15_000)}
    # 1 - 15,000/30,000 = 0.5 to start, as above.
    assert rule.check(order(size=21, **facts)) is None
    assert "(estimated 0.5000" in str(rule.check(order(size=22, **facts)))


def test_spot_orders_have_no_liquidation_buffer() -> None:
    rule = LiquidationBuffer(RiskConfig())
    assert rule.check(order(size=1_000, liquidation_buffer_pct=D(0))) is None


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
    assert abs(volatility - D("0.01414")) < D("0.00001")
    description = breaker.describe("BTC-USD", volatility, VolatilityLevel.REDUCE)
    assert description == (
        "BTC-USD volatility 0.01414 (stdev of 2 sample returns) exceeds volatility_reduce 0.01"
    )
