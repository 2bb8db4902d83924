from __future__ import annotations

from decimal import Decimal

from perpsbot.backtest import bar_path, merged_path
from perpsbot.venue import Candle


def _candle(start_s: int, o: str, h: str, lo: str, c: str) -> Candle:
    return Candle(
        start_s=start_s, open=Decimal(o), high=Decimal(h), low=Decimal(lo), close=Decimal(c),
        volume=Decimal(1),
    )  # fmt: skip


def test_a_bar_visits_the_extreme_nearer_its_open_first_and_closes_at_half_the_bar() -> None:
    near_low = _candle(600, "100", "110", "98", "105")
    near_high = _candle(600, "100", "101", "90", "95")

    assert bar_path(near_low, 60) == [
        (607.5, Decimal(100)), (615.0, Decimal(98)), (622.5, Decimal(110)), (630.0, Decimal(105)),
    ]  # fmt: skip
    assert [price for _, price in bar_path(near_high, 60)] == [100, 101, 90, 95]


def test_products_move_together_at_each_instant_and_a_missing_bar_holds_the_price() -> None:
    a = [_candle(0, "1", "2", "1", "2"), _candle(60, "2", "3", "2", "3")]
    b = [_candle(60, "5", "6", "5", "6")]

    points = list(merged_path({"A": a, "B": b}, 60))

    assert [p.at_s for p in points] == [7.5, 15.0, 22.5, 30.0, 67.5, 75.0, 82.5, 90.0]
    assert [sorted(p.prices) for p in points[:4]] == [["A"]] * 4
    assert [sorted(p.prices) for p in points[4:]] == [["A", "B"]] * 4
    assert points[-1].prices == {"A": Decimal(3), "B": Decimal(6)}
