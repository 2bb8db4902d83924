"""Backtests: the bot's own actor tree against the simulated exchange driven by stored
candles, on a fake clock that jumps to the next due event whenever the actors are idle.

- :func:`run_backtest` runs one (``perpsbot backtest``) and returns a
  :class:`BacktestResult`: the journal (an ordinary one), the marks it played and the
  starting equity, what a report is built from.
- :func:`replay_recording` plays a feed recording's frames through the bot's own feed
  decoder, at their receive times.
- :class:`IdleDriver` is the clock's driver; the bar path and fill model are in
  ``_path.py`` (and in ``docs/backtest.md``).
- What is made of a run lives in subpackages: ``report`` (the measures and the chart),
  ``floor`` (the same decisions in one thread, the benchmark's ceiling) and ``sweep`` (a grid
  of settings on processes or Ray).
"""

from perpsbot.backtest._driver import DriverCounts, IdleDriver
from perpsbot.backtest._path import PathPoint, bar_path, merged_path
from perpsbot.backtest._replay import ReplayResult, replay_recording
from perpsbot.backtest._run import BacktestResult, backtest_config, run_backtest

__all__ = [
    "BacktestResult",
    "DriverCounts",
    "IdleDriver",
    "PathPoint",
    "ReplayResult",
    "backtest_config",
    "bar_path",
    "merged_path",
    "replay_recording",
    "run_backtest",
]
