"""Parameter sweeps: a grid from ``NAME=VALUES`` arguments (:func:`parse_grid`), every point
run through one callable on this machine's processes or on Ray (:func:`run_sweep`), and the
runs ranked by a measure (:func:`rank`, :func:`render_ranked`). ``perpsbot backtest --sweep``'s
callable is :func:`run_point`: one backtest a point, measured by its report."""

from perpsbot.backtest.sweep._backtest import SweepSettings, check_point, journal_of, run_point
from perpsbot.backtest.sweep._grid import MAX_POINTS, Grid, parse_grid
from perpsbot.backtest.sweep._runner import (
    DEFAULT_COLUMNS,
    SweepResult,
    SweepRun,
    rank,
    render_ranked,
    run_sweep,
)

__all__ = [
    "DEFAULT_COLUMNS",
    "MAX_POINTS",
    "Grid",
    "SweepResult",
    "SweepRun",
    "SweepSettings",
    "check_point",
    "journal_of",
    "parse_grid",
    "rank",
    "render_ranked",
    "run_point",
    "run_sweep",
]
