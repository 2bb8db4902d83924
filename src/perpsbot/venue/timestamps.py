"""RFC 3339 timestamps to Unix nanoseconds, exactly, for 0 to 9 fractional digits.

Coinbase sends ``2023-02-09T20:32:50.714964855Z``, ``...50.05Z`` and ``...50Z``; Python's
``datetime`` keeps only microseconds, so this parser does the arithmetic on integers. One
regular expression checks the shape; recent timestamps and their minutes are cached, since
a feed repeats them. A value of another shape is read by the field-by-field parser
(:func:`_checked_ns`), whose error says what is wrong.
"""

from __future__ import annotations

import re

__all__ = ["format_rfc3339_ns", "parse_rfc3339_ns"]

_NS_PER_S = 1_000_000_000
_MINUTE_CACHE: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> epoch s, validated on insert
_RECENT: dict[str, int] = {}  # whole timestamps (a book's time in each of its answers)
_CACHE_MAX = 256
_DIGITS = frozenset("0123456789")
_FRACTION_SCALE: tuple[int, ...] = tuple(10 ** (9 - n) for n in range(10))
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: Exactly the shapes :func:`_checked_ns` reads: seconds, fraction digits, zone.
_SHAPE = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)", re.ASCII
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _number(text: str, start: int, end: int) -> int:
    part = text[start:end]
    if len(part) != end - start or not _DIGITS.issuperset(part):
        raise ValueError(f"expected digits at {start}:{end} of {text!r}")
    return int(part)


def _minute_epoch_s(text: str) -> int:
    if text[4] != "-" or text[7] != "-" or text[10] not in "Tt " or text[13] != ":":
        raise ValueError(f"expected YYYY-MM-DDTHH:MM, found {text[:16]!r}")
    year, month, day = _number(text, 0, 4), _number(text, 5, 7), _number(text, 8, 10)
    hour, minute = _number(text, 11, 13), _number(text, 14, 16)
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, was {month}")
    max_day = _DAYS_IN_MONTH[month - 1]
    if month == 2 and not _is_leap(year):
        max_day = 28
    if not 1 <= day <= max_day:
        raise ValueError(f"day must be 1-{max_day}, was {day}")
    if hour > 23 or minute > 59:
        raise ValueError(f"time must be at most 23:59, was {hour:02d}:{minute:02d}")
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60


def _minute_s(text: str) -> int:
    """Epoch seconds of ``text``'s minute (cached).

    Raises:
        ValueError: the date or the hour and minute are out of range.
    """
    prefix = text[:16]
    base = _MINUTE_CACHE.get(prefix)
    if base is None:
        base = _minute_epoch_s(text)
        if len(_MINUTE_CACHE) >= _CACHE_MAX:
            _MINUTE_CACHE.clear()
        _MINUTE_CACHE[prefix] = base
    return base


def parse_rfc3339_ns(text: str) -> int:
    """Unix nanoseconds of an RFC 3339 timestamp (``Z`` or ``+HH:MM`` offset).

    Raises:
        ValueError: ``text`` is not an RFC 3339 timestamp; the message says what was wrong.
    """
    known = _RECENT.get(text)
    if known is not None:
        return known
    match = _SHAPE.fullmatch(text)
    if match is None:
        return _checked_ns(text)  # raises, saying what is wrong
    second_text, fraction, zone = match.groups()
    second = int(second_text)
    if second > 60:
        raise ValueError(f"seconds must be at most 60, was {second}")
    ns = (_minute_s(text) + second) * _NS_PER_S
    if fraction is not None:
        ns += int(fraction) * _FRACTION_SCALE[len(fraction)]
    if len(zone) > 1:
        offset_s = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        ns += -offset_s * _NS_PER_S if zone[0] == "+" else offset_s * _NS_PER_S
    if len(_RECENT) >= _CACHE_MAX:
        _RECENT.clear()
    _RECENT[text] = ns
    return ns


def _checked_ns(text: str) -> int:
    """:func:`parse_rfc3339_ns` field by field, each check with its own error."""
    if len(text) < 20:
        raise ValueError(f"expected an RFC 3339 timestamp, found {text!r}")
    base = _minute_s(text)
    if text[16] != ":":
        raise ValueError(f"expected ':' before seconds in {text!r}")
    second = _number(text, 17, 19)
    if second > 60:
        raise ValueError(f"seconds must be at most 60, was {second}")
    pos = 19
    fraction_ns = 0
    if text[pos] == ".":
        end = pos + 1
        while end < len(text) and text[end] in _DIGITS:
            end += 1
        digits = end - pos - 1
        if not 1 <= digits <= 9:
            raise ValueError(f"expected 1-9 fractional digits, found {digits} in {text!r}")
        fraction_ns = int(text[pos + 1 : end]) * _FRACTION_SCALE[digits]
        pos = end
    zone = text[pos:]
    if zone in ("Z", "z"):
        offset_s = 0
    elif len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
        offset_s = (_number(zone, 1, 3) * 3600 + _number(zone, 4, 6) * 60) * (
            1 if zone[0] == "+" else -1
        )
    else:
        raise ValueError(f"expected 'Z' or '+HH:MM' at the end, found {zone!r} in {text!r}")
    return (base + second - offset_s) * _NS_PER_S + fraction_ns


def format_rfc3339_ns(ts_ns: int) -> str:
    """The UTC RFC 3339 form of Unix nanoseconds, with nine fractional digits."""
    seconds, fraction = divmod(ts_ns, _NS_PER_S)
    days, rem = divmod(seconds, 86400)
    # Inverse of _days_from_civil (Hinnant's civil_from_days).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction:09d}Z"
