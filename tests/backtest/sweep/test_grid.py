from __future__ import annotations

import pytest

from perpsbot.backtest.sweep import MAX_POINTS, parse_grid
from perpsbot.errors import BacktestInputError


def test_ranges_include_both_ends_and_lists_keep_their_text() -> None:
    grid = parse_grid(["strategy.short_ma=3..5", "strategy.leverage=0.5,1,2"])

    assert grid.parameters == (
        ("strategy.short_ma", ("3", "4", "5")),
        ("strategy.leverage", ("0.5", "1", "2")),
    )
    assert grid.size == 9


def test_a_stepped_range_takes_decimals_and_stops_at_its_end() -> None:
    grid = parse_grid(["strategy.trailing_stop_pct=0.01..0.05:0.02", "risk.max_leverage=3"])

    assert grid.parameters == (
        ("strategy.trailing_stop_pct", ("0.01", "0.03", "0.05")),
        ("risk.max_leverage", ("3",)),
    )


def test_points_are_every_combination_the_first_parameter_varying_slowest() -> None:
    grid = parse_grid(["a.x=1..2", "a.y=p,q"])

    assert list(grid.points()) == [
        {"a.x": "1", "a.y": "p"},
        {"a.x": "1", "a.y": "q"},
        {"a.x": "2", "a.y": "p"},
        {"a.x": "2", "a.y": "q"},
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "a sweep needs at least one NAME=VALUES"),
        (["strategy.short_ma"], r"must be NAME=VALUES .* found 'strategy.short_ma' and no '='"),
        (["short_ma=3..10"], r"NAME a dotted setting such as strategy.short_ma; found 'short_ma'"),
        (["a.x=3..x"], r"a.x must be FROM..TO \(integers\), FROM..TO:STEP, A,B,C .*'3..x'"),
        (["a.x=10..3"], "FROM..TO must have FROM at most TO; found '10..3'"),
        (["a.x=0.1..0.5"], r"a range of decimals needs a step \(FROM..TO:STEP\); found"),
        (["a.x=1..5:0"], "the step must be a positive number; found '1..5:0'"),
        (["a.x=1,,2"], "a.x must be FROM..TO"),
        (["a.x=1,2,1"], "lists a value twice"),
        (["a.x=1", "a.x=2"], "a.x is given twice"),
        (["a.x=1..1000", "a.y=1..1000"], f"at most {MAX_POINTS:,} combinations, this grid has"),
    ],
)
def test_bad_arguments_are_refused_naming_the_expected_and_the_found(
    arguments: list[str], message: str
) -> None:
    with pytest.raises(BacktestInputError, match=message):
        parse_grid(arguments)
