"""The portfolio's memory of the fills it booked: bounded, and sure of how far back it holds."""

from __future__ import annotations

from perpsbot.actors.risk._book import RecentFills


def test_a_fill_told_twice_counts_once() -> None:
    fills = RecentFills(capacity=3)
    assert fills.first_time("a", 1)
    assert not fills.first_time("a", 1)
    assert "a" in fills


def test_it_is_sure_only_of_fills_that_traded_after_the_last_one_it_forgot() -> None:
    # A swept fill that traded before a forgotten one may have been booked already: the
    # portfolio leaves it to the correction rather than count it twice.
    fills = RecentFills(capacity=2)
    for fill_id, ts_ns in (("a", 10), ("b", 20)):
        fills.first_time(fill_id, ts_ns)
    assert fills.remembers(5)  # nothing forgotten yet
    fills.first_time("c", 30)  # "a" (traded at 10) is forgotten
    assert "a" not in fills
    assert not fills.remembers(10)
    assert fills.remembers(11)


def test_a_restored_memory_keeps_what_it_forgot() -> None:
    fills = RecentFills(capacity=1)
    fills.first_time("a", 10)
    fills.first_time("b", 20)
    restored = RecentFills(capacity=1)
    restored.restore(fills.snapshot())
    assert "b" in restored
    assert not restored.remembers(10)
