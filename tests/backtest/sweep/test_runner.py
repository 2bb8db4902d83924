from __future__ import annotations

import importlib.util
import os
from decimal import Decimal

import pytest

from perpsbot.backtest.sweep import SweepResult, parse_grid, rank, render_ranked, run_sweep
from perpsbot.errors import BacktestInputError
from tests.backtest.sweep.runs import fails_on_three, score

GRID = parse_grid(["strategy.x=1..4", "strategy.y=0.5,2"])


@pytest.mark.slow  # spawns worker processes
def test_every_point_runs_in_another_process_and_comes_back_in_grid_order() -> None:
    results = run_sweep(score, GRID, workers=2)

    assert [r.parameters for r in results] == list(GRID.points())
    assert [r.measures["net_pnl"] for r in results if r.measures] == [
        str(int(p["strategy.x"]) * Decimal(p["strategy.y"])) for p in GRID.points()
    ]
    assert os.getpid() not in {r.measures["pid"] for r in results if r.measures}


@pytest.mark.slow  # spawns worker processes
def test_a_failing_run_is_reported_and_the_others_are_ranked() -> None:
    results = run_sweep(fails_on_three, GRID, workers=2)

    failed = [r for r in results if r.error is not None]
    assert [r.parameters["strategy.x"] for r in failed] == ["3", "3"]
    assert failed[0].error == "ValueError: three is not allowed"
    ranked = rank(results, "net_pnl")
    assert [r.measures["net_pnl"] for r in ranked[:3] if r.measures] == ["8", "4", "2"]
    assert ranked[-2:] == failed


def _result(x: str, net: str | None, drawdown: float) -> SweepResult:
    measures = {"net_pnl": net, "max_drawdown_pct": drawdown, "trades": 3}
    return SweepResult(parameters={"strategy.x": x}, measures=measures)


def test_ranking_puts_the_best_first_and_runs_without_the_measure_last() -> None:
    results = [_result("1", "-5", 2.0), _result("2", None, 0.5), _result("3", "12.5", 9.0)]

    assert [r.parameters["strategy.x"] for r in rank(results, "net_pnl")] == ["3", "1", "2"]
    lowest = rank(results, "max_drawdown_pct", descending=False)
    assert [r.parameters["strategy.x"] for r in lowest] == ["2", "1", "3"]


def test_ranking_by_an_unknown_measure_names_the_known_ones() -> None:
    with pytest.raises(BacktestInputError, match=r"cannot rank by 'profit'.*'net_pnl'"):
        rank([_result("1", "1", 0.0)], "profit")


def test_the_table_shows_the_rank_the_parameters_and_the_measures() -> None:
    results = [_result("1", "-5", 2.0), _result("3", "12.5", 9.0)]
    results.append(SweepResult(parameters={"strategy.x": "9"}, measures=None, error="boom"))

    lines = render_ranked(results, "net_pnl").splitlines()

    assert lines[0] == "3 runs, ranked by net_pnl (highest first)"
    assert lines[1].split() == ["#", "strategy.x", "net_pnl", "trades", "max_drawdown_pct"]
    assert lines[2].split() == ["1", "3", "12.5", "3", "9"]
    assert lines[3].split() == ["2", "1", "-5", "3", "2"]
    assert lines[4].split() == ["3", "9", "failed:", "boom"]


@pytest.mark.slow
@pytest.mark.timeout(300)  # a local Ray instance takes ~20 s to start on a busy 2-core machine
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the Ray sweep needs the ray extra: pip install 'perpsbot[ray]'",
)
def test_the_same_sweep_runs_on_a_local_ray_instance() -> None:
    on_processes = run_sweep(score, GRID, workers=2)
    on_ray = run_sweep(score, GRID, ray_address="local")

    def measured(results: list[SweepResult]) -> list[tuple[object, ...]]:
        return [(r.parameters, r.measures and r.measures["net_pnl"], r.error) for r in results]

    assert measured(on_ray) == measured(on_processes)
    assert os.getpid() not in {r.measures["pid"] for r in on_ray if r.measures}
