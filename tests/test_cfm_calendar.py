"""The venue's calendar: US Eastern time, the margin windows' ends and the funding settlements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perpsbot.cfm_calendar import (
    eastern,
    from_eastern,
    is_intraday,
    next_funding_ns,
    next_settlement_ns,
    settled_between,
    window_ends_ns,
)


def utc(text: str) -> int:
    """``"2026-03-04 13:00"`` (UTC) as Unix nanoseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


@pytest.mark.parametrize(
    ("moment", "local"),
    [
        ("2026-03-08 06:59", "2026-03-08 01:59"),  # EST until the second Sunday of March
        ("2026-03-08 07:00", "2026-03-08 03:00"),  # EDT from 02:00 EST
        ("2026-11-01 05:59", "2026-11-01 01:59"),  # EDT until the first Sunday of November
        ("2026-11-01 06:00", "2026-11-01 01:00"),  # EST from 02:00 EDT
        ("2027-03-14 07:00", "2027-03-14 03:00"),
    ],
)
def test_us_eastern_time_follows_daylight_saving(moment: str, local: str) -> None:
    assert eastern(utc(moment)) == datetime.fromisoformat(local)
    if moment != "2026-11-01 06:00":  # 01:00 repeats that night: the first one is EDT
        assert from_eastern(datetime.fromisoformat(local)) == utc(moment)


@pytest.mark.parametrize(
    ("moment", "intraday"),
    [
        ("2026-03-06 12:59:59", False),  # Friday 07:59:59 EST
        ("2026-03-06 13:00:00", True),  # 08:00 EST
        ("2026-03-06 20:59:59", True),  # 15:59:59 EST
        ("2026-03-06 21:00:00", False),  # 16:00 EST
        ("2026-03-07 17:00:00", False),  # Saturday noon
        ("2026-03-09 11:59:59", False),  # Monday 07:59:59 EDT
        ("2026-03-09 12:00:00", True),  # Monday 08:00 EDT
    ],
)
def test_the_intraday_window_runs_08_to_16_eastern_on_weekdays(moment: str, intraday: bool) -> None:
    assert is_intraday(utc(moment)) is intraday


@pytest.mark.parametrize(
    ("moment", "ends"),
    [
        ("2026-03-04 14:00", "2026-03-04 21:00"),  # Wednesday intraday: 16:00 EST
        ("2026-03-04 21:00", "2026-03-05 13:00"),  # Wednesday 16:00: Thursday 08:00 EST
        ("2026-03-05 06:00", "2026-03-05 13:00"),  # Thursday 01:00: 08:00 the same day
        ("2026-03-06 21:00", "2026-03-09 12:00"),  # Friday 16:00: Monday 08:00 EDT
    ],
)
def test_a_margin_window_ends_at_the_next_switch(moment: str, ends: str) -> None:
    assert window_ends_ns(utc(moment)) == utc(ends)


def test_funding_falls_on_the_utc_hour() -> None:
    assert next_funding_ns(utc("2026-03-04 18:59:59")) == utc("2026-03-04 19:00")
    assert next_funding_ns(utc("2026-03-04 19:00")) == utc("2026-03-04 20:00")


@pytest.mark.parametrize(
    ("after", "settles"),
    [
        ("2026-03-04 08:59:59", "2026-03-04 09:00"),  # 04:00 EST
        ("2026-03-04 09:00", "2026-03-04 21:00"),  # then 16:00 EST
        ("2026-03-04 21:00", "2026-03-05 09:00"),
        ("2026-03-07 21:00", "2026-03-08 08:00"),  # Sunday 04:00 EDT: weekends too
        ("2026-11-01 08:00", "2026-11-01 09:00"),  # Sunday 04:00 EST after the change
    ],
)
def test_funding_settles_at_04_and_16_eastern_every_day(after: str, settles: str) -> None:
    assert next_settlement_ns(utc(after)) == utc(settles)


def test_a_settlement_counts_as_between_two_readings_from_its_instant_on() -> None:
    settles = utc("2026-03-04 21:00")
    assert not settled_between(settles - 1, settles - 1)
    assert settled_between(settles - 1, settles)
    assert not settled_between(settles, settles + 3600 * 10**9)
