"""Coinbase Financial Markets' calendar: US Eastern wall time, the margin windows, the funding
hours and the two daily funding settlements.

Pure functions of Unix nanoseconds, shared by the bot (its leverage cap and liquidation
buffer, its reading of the venue's funding) and the simulated exchange (which charges margin
and settles funding by the same calendar). What each time rests on is in
``docs/venues/coinbase-cfm.md``:

- **Margin windows.** The intraday margin rate applies on weekdays from 08:00 to 16:00 US
  Eastern time, the overnight rate at every other time, weekends included. Market holidays
  are not known here: one counts as a weekday.
- **Funding.** Perpetual-style futures accrue funding every hour on the hour (UTC; the
  product's ``funding_interval`` is ``3600s``) and settle what accrued into the futures cash
  twice a day, at :data:`FUNDING_SETTLEMENTS` US Eastern. A settlement comes before the
  accrual of its own hour: it pays what accrued up to the hour before.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

__all__ = [
    "FUNDING_INTERVAL_NS",
    "FUNDING_SETTLEMENTS",
    "INTRADAY_CLOSES",
    "INTRADAY_OPENS",
    "eastern",
    "from_eastern",
    "is_intraday",
    "next_funding_ns",
    "next_settlement_ns",
    "settled_between",
    "window_ends_ns",
]

INTRADAY_OPENS = time(8, 0)
INTRADAY_CLOSES = time(16, 0)
"""US Eastern wall time, Monday to Friday."""
FUNDING_INTERVAL_NS = 3600 * 10**9
FUNDING_SETTLEMENTS = (time(4, 0), time(16, 0))
"""US Eastern wall times of the two daily funding settlements."""

_STANDARD = timedelta(hours=-5)  # EST
_DAYLIGHT = timedelta(hours=-4)  # EDT
_SUNDAY = 6
_EPOCH = datetime(1970, 1, 1)


def _sunday(year: int, month: int, nth: int) -> datetime:
    """The ``nth`` Sunday of ``month``, at midnight (naive)."""
    first = datetime(year, month, 1)
    return first + timedelta(days=(_SUNDAY - first.weekday()) % 7 + 7 * (nth - 1))


def _offset(utc: datetime) -> timedelta:
    """US Eastern's offset from UTC at ``utc`` (naive UTC): daylight saving from the second
    Sunday of March, 02:00 EST, to the first Sunday of November, 02:00 EDT (the US rule since
    2007)."""
    starts = _sunday(utc.year, 3, 2) + timedelta(hours=2) - _STANDARD
    ends = _sunday(utc.year, 11, 1) + timedelta(hours=2) - _DAYLIGHT
    return _DAYLIGHT if starts <= utc < ends else _STANDARD


def eastern(now_ns: int) -> datetime:
    """``now_ns`` (Unix nanoseconds) as US Eastern wall time (naive)."""
    utc = _EPOCH + timedelta(microseconds=now_ns // 1000)
    return utc + _offset(utc)


def from_eastern(local: datetime) -> int:
    """The Unix nanoseconds of US Eastern wall time ``local`` (naive). A time the clocks skip
    (02:xx on the spring change) counts as standard time; one they repeat (01:xx in
    November), as daylight time."""
    for offset in (_DAYLIGHT, _STANDARD):
        utc = local - offset
        if _offset(utc) == offset:
            return (utc - _EPOCH) // timedelta(microseconds=1) * 1000
    return (local - _STANDARD - _EPOCH) // timedelta(microseconds=1) * 1000


def is_intraday(now_ns: int) -> bool:
    """True if the venue charges its intraday margin rate at ``now_ns``."""
    local = eastern(now_ns)
    return local.weekday() < 5 and INTRADAY_OPENS <= local.time() < INTRADAY_CLOSES


def window_ends_ns(now_ns: int) -> int:
    """When the margin window in effect at ``now_ns`` ends: 16:00 the same day in the
    intraday window, else the next weekday's 08:00."""
    local = eastern(now_ns)
    if is_intraday(now_ns):
        return from_eastern(datetime.combine(local.date(), INTRADAY_CLOSES))
    day = local.date() if local.time() < INTRADAY_OPENS else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return from_eastern(datetime.combine(day, INTRADAY_OPENS))


def next_funding_ns(after_ns: int) -> int:
    """The first funding hour strictly after ``after_ns``."""
    return (after_ns // FUNDING_INTERVAL_NS + 1) * FUNDING_INTERVAL_NS


def next_settlement_ns(after_ns: int) -> int:
    """The first funding settlement strictly after ``after_ns``."""
    day = eastern(after_ns).date()
    while True:
        for at in FUNDING_SETTLEMENTS:
            settles = from_eastern(datetime.combine(day, at))
            if settles > after_ns:
                return settles
        day += timedelta(days=1)


def settled_between(since_ns: int, until_ns: int) -> bool:
    """True if a funding settlement fell after ``since_ns``, at or before ``until_ns``."""
    return next_settlement_ns(since_ns) <= until_ns
