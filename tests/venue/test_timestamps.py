from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbot.venue import format_rfc3339_ns, parse_rfc3339_ns


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("2023-02-09T20:32:50.714964855Z", 1_675_974_770_714_964_855),
        ("2023-02-09T20:32:50.05Z", 1_675_974_770_050_000_000),
        ("2023-02-09T20:32:50Z", 1_675_974_770_000_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T23:59:59.1+01:00", 1_709_247_599_100_000_000),
        ("2024-02-29t23:59:59.1-01:30", 1_709_256_599_100_000_000),
        ("2016-12-31 23:59:60z", 1_483_228_800_000_000_000),  # a leap second, as before
    ],
)
def test_rfc3339_with_zero_to_nine_fraction_digits_parses_exactly(
    text: str, expected_ns: int
) -> None:
    assert parse_rfc3339_ns(text) == expected_ns
    assert parse_rfc3339_ns(text) == expected_ns  # second time through the caches


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30T00:00:00Z",
        "2023-13-01T00:00:00Z",
        "2023-02-09 20:32:50",
        "2023-02-09T20:32:50.1234567890Z",
        "2023-02-09T20:32:50.Z",
        "2023-02-09T24:00:00Z",
        "yesterday",
        "2023-02-09T20:32:5xZ",
        "2023-02-09T20:32:61Z",
        "2023-02-09T20:32:50+0100",
        "2023-02-09T20:32:50Z ",
        "2023-02-09T20:32:50.\u0663Z",  # a digit, but not an ASCII one
    ],
)
def test_malformed_timestamps_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected|must"):
        parse_rfc3339_ns(text)


@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9))
def test_format_and_parse_round_trip(ts_ns: int) -> None:
    assert parse_rfc3339_ns(format_rfc3339_ns(ts_ns)) == ts_ns


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)))
def test_parse_agrees_with_datetime_to_the_microsecond(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    text = aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expected = (
        int((aware - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**9
        + aware.microsecond * 1000
    )
    assert parse_rfc3339_ns(text) == expected
