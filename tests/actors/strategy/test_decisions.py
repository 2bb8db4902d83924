from __future__ import annotations

from typing import Any

import attrs

from perpsbot.actors.strategy._decisions import (
    Action,
    Params,
    Situation,
    WantedOrder,
    decide,
    entry_notional,
    entry_size,
)
from perpsbot.actors.strategy._trailing_stop import TrailingStop
from perpsbot.config import RiskConfig
from perpsbot.messages import (
    IntentPurpose,
    MarginRates,
    MarkSample,
    Side,
    Signal,
    TradingState,
)
from tests.actors.trading import D, bot_config, future, sample, spot

PARAMS = Params.from_config(bot_config(short_ma=2, long_ma=3))
BULLISH = sample([100, 100, 100, 100, 101])
BEARISH = sample([100, 100, 100, 100, 99])
APART = sample([97, 98, 99, 100, 101, 102])  # short above long since long ago: no cross
EQUITY = D(10_000)


def situation(window: MarkSample = BULLISH, **changes: Any) -> Situation:
    fields: dict[str, Any] = {"sample": window, "equity": EQUITY, "product": spot()}
    return Situation(**{**fields, **changes})


def params(**changes: Any) -> Params:
    return attrs.evolve(PARAMS, **changes)


def test_a_bullish_cross_when_flat_buys_position_fraction_of_equity() -> None:
    decision = decide(situation(), PARAMS)
    assert decision.signal is Signal.BULLISH
    assert decision.action is Action.BUY
    # 5% of 10,000 USD at 101, rounded down to the increment.
    assert decision.order == WantedOrder(
        side=Side.BUY, size=D("4.95049504"), purpose=IntentPurpose.ENTRY
    )


def test_lines_that_stay_apart_do_not_enter() -> None:
    decision = decide(situation(APART), PARAMS)
    assert (decision.signal, decision.action) == (Signal.NEUTRAL, Action.HOLD)


def test_a_stale_sample_decides_nothing_and_keeps_the_stop() -> None:
    stop = TrailingStop(long=True, pct=D("0.01"), peak=D(100))
    stale = sample([100, 100, 100, 100, 50], stale=True, age_s=40.0)
    decision = decide(situation(stale, position=D(1), stop=stop), PARAMS)
    assert (decision.signal, decision.action) == (Signal.STALE, Action.HOLD)
    assert decision.stop == stop
    assert "40.0s old" in decision.reason


def test_a_bearish_cross_without_shorts_holds_and_with_shorts_sells_a_future() -> None:
    window = sample([50_000] * 4 + [49_500])
    assert decide(situation(window, product=future()), PARAMS).action is Action.HOLD
    decision = decide(situation(window, product=future()), params(enable_shorts=True))
    assert decision.action is Action.SELL
    assert decision.order is not None
    assert decision.order.side is Side.SELL


def test_spot_is_never_sold_short_even_with_shorts_enabled() -> None:
    # Selling from flat would sell coins of the wallet that are not the bot's.
    decision = decide(situation(BEARISH), params(enable_shorts=True))
    assert (decision.action, decision.order) == (Action.HOLD, None)
    assert decision.reason == "bearish cross; spot cannot be sold short"


def test_futures_entries_are_leveraged_and_sized_in_contracts() -> None:
    window = sample([50_000] * 4 + [50_500])
    roomy = RiskConfig(max_position_usd=D(10_000))
    decision = decide(situation(window, product=future()), params(leverage=D(3), risk=roomy))
    # 10,000 * 0.05 * 3 = 1,500 USD; one contract is 0.01 BTC = 505 USD: 2 whole contracts.
    assert decision.order is not None
    assert decision.order.size == D(2)


def test_the_usd_cap_limits_an_entry() -> None:
    notional, limit = entry_notional(
        equity=EQUITY, product=spot(), params=params(max_trade_usd=D(250))
    )
    assert (notional, limit) == (D(250), "strategy.max_trade_usd")
    assert entry_size(notional=notional, mark=D(100), product=spot()) == D("2.5")


def test_an_entry_on_a_large_account_is_sized_within_the_position_and_order_caps() -> None:
    # 5% of 250,000 USD is 12,500 USD: past max_position_usd 500 and max_order_usd 5,000.
    canary = params(risk=RiskConfig(max_position_usd=D(500), max_leverage=D(1)))
    decision = decide(situation(equity=D(250_000)), canary)
    assert decision.order is not None
    assert decision.order.size * D(101) <= D(500)
    assert decision.reason.endswith("; 495.00 USD (capped by risk.max_position_usd)")
    capped = RiskConfig(max_position_usd=D(50_000), max_order_usd=D(2_000))
    notional, limit = entry_notional(equity=D(250_000), product=spot(), params=params(risk=capped))
    assert (notional, limit) == (D(1_980), "risk.max_order_usd")


def test_an_entry_takes_only_what_the_exposure_and_leverage_caps_leave() -> None:
    risk = RiskConfig(max_position_usd=D(10_000), max_exposure_usd=D(5_000))
    notional, limit = entry_notional(
        equity=EQUITY, product=spot(), params=params(risk=risk), exposure=D(4_500)
    )
    assert (notional, limit) == (D(450), "risk.max_exposure_usd")  # 4,950 - 4,500
    levered = attrs.evolve(risk, max_exposure_usd=D(100_000), max_leverage=D("0.5"))
    notional, limit = entry_notional(
        equity=EQUITY, product=spot(), params=params(risk=levered), exposure=D(4_500)
    )
    assert (notional, limit) == (D(450), "risk.max_leverage")  # 0.5 x 9,900 - 4,500
    full = entry_notional(equity=EQUITY, product=spot(), params=params(), exposure=D(9_000))
    assert full == (D(0), "risk.max_exposure_usd")


def test_a_futures_entry_stays_within_the_margin_rates_leverage_cap() -> None:
    rates = MarginRates(
        intraday_long=D("0.5"), intraday_short=D("0.5"),
        overnight_long=D("0.5"), overnight_short=D("0.5"),
    )  # fmt: skip
    roomy = {"max_order_usd": D(100_000), "max_exposure_usd": D(100_000)}
    risk = RiskConfig(max_position_usd=D(100_000), **roomy)
    notional, limit = entry_notional(
        equity=EQUITY,
        product=future(margin_rates=rates),
        params=params(leverage=D(3), position_fraction=D(1), risk=risk),
        long=False,
    )
    assert (notional, limit) == (D(19_800), "the leverage cap 2x")  # 1 / 0.5, at 99%


def test_an_entry_smaller_than_the_minimum_size_is_not_sent() -> None:
    window = sample([50_000] * 4 + [50_500])
    decision = decide(situation(window, product=future(), equity=D(1_000)), PARAMS)
    assert decision.action is Action.HOLD
    assert "less than the minimum 1" in decision.reason


def test_no_entry_without_equity_or_product_data() -> None:
    assert "equity unknown" in decide(situation(equity=None), PARAMS).reason
    assert "no product data" in decide(situation(product=None), PARAMS).reason


def test_reducing_never_enters_but_still_exits_on_the_opposite_cross() -> None:
    assert decide(situation(state=TradingState.REDUCING), PARAMS).action is Action.HOLD
    decision = decide(situation(BEARISH, position=D(2), state=TradingState.REDUCING), PARAMS)
    assert decision.action is Action.CLOSE
    assert decision.order == WantedOrder(side=Side.SELL, size=D(2), purpose=IntentPurpose.EXIT)


def test_reducing_does_not_liquidate_a_position_without_an_exit_signal() -> None:
    # The original's reduce-only closed every position at once (§10 #12).
    decision = decide(situation(APART, position=D(2), state=TradingState.REDUCING), PARAMS)
    assert decision.action is Action.HOLD


def test_halted_decides_nothing_even_on_an_exit_signal() -> None:
    decision = decide(situation(BEARISH, position=D(2), state=TradingState.HALTED), PARAMS)
    assert decision.action is Action.HOLD


def test_nothing_new_while_an_intent_is_pending() -> None:
    decision = decide(situation(pending="BTC-USD:entry:1:0"), PARAMS)
    assert decision.action is Action.HOLD
    assert "BTC-USD:entry:1:0" in decision.reason


def test_outside_the_trading_window_no_entry_but_exits_happen() -> None:
    assert decide(situation(in_window=False), PARAMS).action is Action.HOLD
    decision = decide(situation(BEARISH, position=D(1), in_window=False), PARAMS)
    assert decision.action is Action.CLOSE


def test_a_short_closes_on_a_bullish_cross() -> None:
    decision = decide(situation(BULLISH, position=D(-3)), PARAMS)
    assert decision.order == WantedOrder(side=Side.BUY, size=D(3), purpose=IntentPurpose.EXIT)


def test_the_trailing_stop_seeded_at_the_fill_price_closes_at_one_percent_below_it() -> None:
    fill_stop = TrailingStop(long=True, pct=D("0.01"), peak=D(100))
    no_cross_at_99 = sample([97, 98, 99, 100, 101, 99])
    assert decide(situation(no_cross_at_99), PARAMS).signal is Signal.NEUTRAL
    decision = decide(situation(no_cross_at_99, position=D(1), stop=fill_stop), PARAMS)
    assert decision.action is Action.CLOSE
    assert "trailing stop" in decision.reason
    # Seeded at a later, lower mark (the original's bug) the same fall would not close.
    late_stop = TrailingStop(long=True, pct=D("0.01"), peak=D("99.5"))
    assert decide(situation(no_cross_at_99, position=D(1), stop=late_stop), PARAMS).action is (
        Action.HOLD
    )


def test_the_stop_follows_the_mark_while_holding() -> None:
    stop = TrailingStop(long=True, pct=D("0.01"), peak=D(100))
    decision = decide(situation(APART, position=D(1), stop=stop), PARAMS)
    assert decision.action is Action.HOLD
    assert decision.stop is not None
    assert decision.stop.peak == D(102)


def test_a_position_without_a_known_entry_gets_a_stop_at_the_current_mark() -> None:
    decision = decide(situation(APART, position=D(1), stop=None), PARAMS)
    assert decision.stop == TrailingStop(long=True, pct=D("0.01"), peak=D(102))


def test_when_flat_there_is_no_stop() -> None:
    assert decide(situation(APART), PARAMS).stop is None


STILL_BEARISH = sample([50_000] * 4 + [49_500, 49_400])  # past the cross, below it still


def test_a_long_closed_on_a_bearish_cross_reverses_into_a_short_on_a_future_once_flat() -> None:
    shorts = params(enable_shorts=True)
    window = sample([50_000] * 4 + [49_500])
    closed = decide(situation(window, position=D(2), product=future()), shorts)
    assert closed.order == WantedOrder(side=Side.SELL, size=D(2), purpose=IntentPurpose.EXIT)
    assert closed.reversal is Signal.BEARISH
    assert closed.reason.endswith("; then short once flat")

    pending = situation(
        STILL_BEARISH, position=D(2), product=future(), pending="x", reversal=Signal.BEARISH
    )
    assert decide(pending, shorts).reversal is Signal.BEARISH  # kept while the exit settles
    flat = situation(STILL_BEARISH, product=future(), reversal=Signal.BEARISH)
    decision = decide(flat, shorts)
    assert decide(attrs.evolve(flat, reversal=None), shorts).action is Action.HOLD  # no cross
    assert (decision.signal, decision.action) == (Signal.BEARISH, Action.SELL)
    assert decision.order is not None
    assert (decision.order.side, decision.order.purpose) == (Side.SELL, IntentPurpose.ENTRY)
    assert decision.reason.startswith("bearish cross, reversing after the exit (short MA")
    assert decision.reversal is None


def test_a_long_closed_on_a_bearish_cross_does_not_reverse_without_shorts_or_on_spot() -> None:
    window = sample([50_000] * 4 + [49_500])
    without_shorts = decide(situation(window, position=D(2), product=future()), PARAMS)
    on_spot = decide(situation(window, position=D(2)), params(enable_shorts=True))
    for closed in (without_shorts, on_spot):
        assert closed.action is Action.CLOSE
        assert closed.reversal is None


def test_a_reversal_lapses_once_the_averages_no_longer_stand_on_its_side() -> None:
    back_up = sample([50_000] * 4 + [49_500, 50_500])
    flat = situation(back_up, product=future(), reversal=Signal.BEARISH)
    decision = decide(flat, params(enable_shorts=True))
    assert (decision.action, decision.reversal) == (Action.HOLD, None)
