"""The volatility circuit breaker: warn, then hold at REDUCING, then HALT.

The statistic is the sample standard deviation of the simple returns between consecutive
samples over the last ``risk.volatility_window`` samples, per symbol, as a plain fraction of
the sampling interval: with 5-second samples, 0.01 means marks typically move 1% in five
seconds. It is not annualized (the original multiplied by the square root of 252 whatever the
spacing of its samples, which made its thresholds meaningless) and not rescaled to another
horizon: the thresholds are chosen for the configured ``market_data.update_interval_s``.
"""

from __future__ import annotations

import enum
import itertools
import statistics
from collections.abc import Sequence
from decimal import Decimal

import attrs

from perpsbot.config import RiskConfig


class VolatilityLevel(enum.IntEnum):
    CALM = 0
    WARN = 1
    REDUCE = 2
    HALT = 3


@attrs.frozen
class VolatilityBreaker:
    """Each threshold is allowed AT its value and trips past it."""

    window: int
    warn: Decimal
    reduce: Decimal
    halt: Decimal

    @classmethod
    def from_config(cls, config: RiskConfig) -> VolatilityBreaker:
        return cls(
            config.volatility_window,
            config.volatility_warn,
            config.volatility_reduce,
            config.volatility_halt,
        )

    def statistic(self, marks: Sequence[Decimal]) -> Decimal | None:
        """The standard deviation of returns over the last ``window`` marks; None until there
        are that many."""
        if len(marks) < self.window:
            return None
        recent = list(marks)[-self.window :]
        returns = [b / a - 1 for a, b in itertools.pairwise(recent)]
        return statistics.stdev(returns)

    def level(self, volatility: Decimal | None) -> VolatilityLevel:
        if volatility is None:
            return VolatilityLevel.CALM
        if volatility > self.halt:
            return VolatilityLevel.HALT
        if volatility > self.reduce:
            return VolatilityLevel.REDUCE
        if volatility > self.warn:
            return VolatilityLevel.WARN
        return VolatilityLevel.CALM

    def describe(self, symbol: str, volatility: Decimal, level: VolatilityLevel) -> str:
        threshold = {
            VolatilityLevel.WARN: ("volatility_warn", self.warn),
            VolatilityLevel.REDUCE: ("volatility_reduce", self.reduce),
            VolatilityLevel.HALT: ("volatility_halt", self.halt),
        }.get(level, ("volatility_warn", self.warn))
        relation = "exceeds" if level is not VolatilityLevel.CALM else "within"
        return (
            f"{symbol} volatility {volatility:.5f} (stdev of {self.window - 1} sample returns)"
            f" {relation} {threshold[0]} {threshold[1].normalize():f}"
        )
