from __future__ import annotations

from datetime import UTC, datetime

from perpsbot.actors.strategy._trading_window import TradingWindow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-06-01 is a Monday: ``day`` 1 is Monday, 6 Saturday."""
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def test_without_times_every_listed_day_is_open_all_day() -> None:
    window = TradingWindow.of(WEEKDAYS, None, None)
    assert window.contains(at(1, 0))
    assert window.contains(at(5, 23, 59))
    assert not window.contains(at(6, 12))  # Saturday


def test_a_day_window_includes_its_start_and_excludes_its_end() -> None:
    window = TradingWindow.of(WEEKDAYS, "13:30", "20:00")
    assert not window.contains(at(1, 13, 29))
    assert window.contains(at(1, 13, 30))
    assert window.contains(at(1, 19, 59))
    assert not window.contains(at(1, 20, 0))
    assert not window.contains(at(6, 14))


def test_an_overnight_window_belongs_to_the_day_it_starts_on() -> None:
    window = TradingWindow.of(("fri",), "22:00", "02:00")
    assert window.contains(at(5, 22))  # Friday evening
    assert window.contains(at(6, 1, 59))  # Saturday morning, Friday's session
    assert not window.contains(at(6, 2))
    assert not window.contains(at(5, 1))  # Friday morning belongs to Thursday's session
    assert not window.contains(at(6, 22))  # Saturday evening: no session starts


def test_equal_start_and_end_mean_the_whole_day() -> None:
    window = TradingWindow.of(("mon",), "09:00", "09:00")
    assert window.contains(at(1, 3))
    assert not window.contains(at(2, 3))
