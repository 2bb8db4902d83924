"""The one-thread floor of a backtest: the same strategy, risk rules and position maths as the
actor tree, called directly on each candle (:func:`floor`), for the benchmark's ratio."""

from perpsbot.backtest.floor._floor import FloorOrder, FloorRun, floor

__all__ = ["FloorOrder", "FloorRun", "floor"]
