"""When the strategy may open positions: weekdays and a UTC time window, possibly overnight.

A window from ``start`` to ``end`` includes ``start`` and excludes ``end``. When ``end`` is
earlier than ``start`` the window spans midnight and belongs to the day it starts on: with
``trading_days = ["fri"]`` and 22:00-02:00, Friday 23:00 and Saturday 01:00 are inside, Friday
01:00 is not. ``start == end`` means the whole day. Without times every listed day is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

import attrs

from perpsbot.config import WEEKDAYS, StrategyConfig


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@attrs.frozen(kw_only=True)
class TradingWindow:
    days: frozenset[int]
    """Weekday numbers (Monday is 0) a window may start on."""
    start: time | None = None
    end: time | None = None

    @classmethod
    def of(cls, days: Iterable[str], start: str | None, end: str | None) -> TradingWindow:
        return cls(
            days=frozenset(WEEKDAYS.index(day) for day in days),
            start=None if start is None else _hhmm(start),
            end=None if end is None else _hhmm(end),
        )

    @classmethod
    def from_config(cls, config: StrategyConfig) -> TradingWindow:
        return cls.of(config.trading_days, config.trading_start_utc, config.trading_end_utc)

    def contains(self, now: datetime) -> bool:
        """True if ``now`` (an aware UTC datetime) lies inside a trading window."""
        moment = now.time().replace(tzinfo=None)
        if self.start is None or self.end is None or self.start == self.end:
            return now.weekday() in self.days
        if self.start < self.end:
            return now.weekday() in self.days and self.start <= moment < self.end
        # Overnight: the evening part belongs to today, the morning part to yesterday.
        if moment >= self.start:
            return now.weekday() in self.days
        yesterday = (now - timedelta(days=1)).weekday()
        return moment < self.end and yesterday in self.days
