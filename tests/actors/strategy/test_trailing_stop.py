from __future__ import annotations

from perpsbot.actors.strategy._trailing_stop import TrailingStop
from tests.actors.trading import D

PCT = D("0.01")


def test_a_long_stop_starts_one_percent_below_the_fill_price() -> None:
    stop = TrailingStop(long=True, pct=PCT, peak=D(100))
    assert stop.stop == D(99)
    assert not stop.triggered(D("99.01"))
    assert stop.triggered(D(99))  # at the stop
    assert stop.triggered(D("98.5"))


def test_a_long_stop_follows_new_highs_and_never_moves_down() -> None:
    stop = TrailingStop(long=True, pct=PCT, peak=D(100)).follow(D(110))
    assert stop.stop == D("108.90")
    assert stop.follow(D(105)).stop == D("108.90")
    assert stop.follow(D(105)).triggered(D(105))


def test_a_short_stop_sits_above_the_fill_and_follows_new_lows() -> None:
    stop = TrailingStop(long=False, pct=PCT, peak=D(100))
    assert stop.stop == D(101)
    assert stop.triggered(D(101))
    assert not stop.triggered(D("100.99"))
    lower = stop.follow(D(90)).follow(D(95))
    assert lower.peak == D(90)
    assert lower.stop == D("90.90")
