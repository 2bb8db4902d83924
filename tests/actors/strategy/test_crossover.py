from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from perpsbot.actors.strategy._crossover import crossover
from perpsbot.messages import Signal
from tests.actors.trading import D

SHORT, LONG = 2, 4


def signals(
    prices: Sequence[int | str], *, epsilon_bps: str = "0", confirm_bars: int = 0
) -> list[Signal]:
    """The signal at each sample of ``prices``, read from a mark window of long + 5."""
    marks = [D(str(p)) for p in prices]
    length = LONG + 5
    return [
        crossover(
            marks[max(0, i + 1 - length) : i + 1],
            short=SHORT,
            long=LONG,
            epsilon_bps=Decimal(epsilon_bps),
            confirm_bars=confirm_bars,
        ).signal
        for i in range(len(marks))
    ]


def crosses(found: list[Signal]) -> list[tuple[int, Signal]]:
    return [(i, s) for i, s in enumerate(found) if s in (Signal.BULLISH, Signal.BEARISH)]


FLAT_THEN_UP = [100] * 6 + [101, 102, 103, 104, 105, 106, 107]


def test_fewer_samples_than_the_long_window_needs_are_warming_up() -> None:
    assert signals([100, 100, 100, 100]) == [Signal.WARMING_UP] * 4


def test_a_rise_signals_bullish_once_on_the_cross_not_while_the_lines_stay_apart() -> None:
    assert crosses(signals(FLAT_THEN_UP)) == [(6, Signal.BULLISH)]


def test_a_fall_signals_bearish_once() -> None:
    prices = [100] * 6 + [99, 98, 97, 96, 95]
    assert crosses(signals(prices)) == [(6, Signal.BEARISH)]


def test_a_rise_then_a_fall_signals_each_cross() -> None:
    prices = [100] * 6 + [102, 104, 106, 104, 100, 96, 92]
    assert crosses(signals(prices)) == [(6, Signal.BULLISH), (10, Signal.BEARISH)]


def test_the_moving_averages_are_reported() -> None:
    reading = crossover([D(1), D(2), D(3), D(4), D(6)], short=SHORT, long=LONG)
    assert (reading.short_ma, reading.long_ma) == (D(5), D("3.75"))


def test_a_cross_within_epsilon_does_not_count() -> None:
    # +0.1% then flat: the short MA leads by ~0.05% of the mark, inside a 10 bps band.
    prices = [1000] * 6 + [1001] * 4
    assert crosses(signals(prices, epsilon_bps="10")) == []
    assert crosses(signals(prices, epsilon_bps="0")) == [(6, Signal.BULLISH)]


def test_a_cross_past_epsilon_counts_once_it_leaves_the_band() -> None:
    prices = [1000] * 6 + [1001, 1004, 1008, 1012]
    found = crosses(signals(prices, epsilon_bps="10"))
    assert len(found) == 1
    assert found[0][1] is Signal.BULLISH
    assert found[0][0] > 6  # not on the first, too small step


def test_confirm_bars_signal_once_the_cross_held_that_many_more_samples() -> None:
    # The original suppressed every signal for confirm_bars > 0 (§5.3, §10 #25).
    assert crosses(signals(FLAT_THEN_UP, confirm_bars=1)) == [(7, Signal.BULLISH)]
    assert crosses(signals(FLAT_THEN_UP, confirm_bars=2)) == [(8, Signal.BULLISH)]


def test_a_cross_that_does_not_hold_is_never_confirmed() -> None:
    prices = [100] * 6 + [102, 98, 96, 95, 94]
    assert crosses(signals(prices, confirm_bars=0))[0] == (6, Signal.BULLISH)
    confirmed = crosses(signals(prices, confirm_bars=2))
    assert all(s is Signal.BEARISH for _, s in confirmed)


def test_confirmation_needs_the_long_window_plus_the_bars_plus_one_samples() -> None:
    assert signals([100] * 5, confirm_bars=1)[-1] is Signal.WARMING_UP
    assert signals([100] * 6, confirm_bars=1)[-1] is Signal.NEUTRAL
