"""The volatility circuit breaker: warn, then hold at REDUCING, then HALT.

The statistic is the sample standard deviation of the simple returns between consecutive
samples over the last ``risk.volatility_window`` samples, per symbol, as a plain fraction of
the sampling interval: with 5-second samples, 0.01 means marks typically move 1% in five
seconds. It is not annualized (the original multiplied by the square root of 252 whatever the
spacing of its samples, which made its thresholds meaningless) and not rescaled to another
horizon: the thresholds are chosen for the configured ``market_data.update_interval_s``.

The statistic is not money, and a sample's is computed in binary floating point: each mark
rounded to the nearest double, each return ``b / a - 1``, the mean and then the sum of squared
deviations each summed with ``math.fsum`` (exactly rounded), divided by ``n - 1``, and the
square root. IEEE-754 defines every step exactly, so the same marks give the same bits on any
machine (a backtest stays deterministic), within about 1e-15 times the largest return of the
exact value. Only when that float lies within a margin far wider than its error
(``_NEAR`` times one plus the largest return) of a threshold is the statistic computed again in
``Decimal`` (``statistics.stdev``, exact fractions inside, as it always was before; it cost a
tenth of a backtest's CPU at every sample), so the level compares with the thresholds exactly
as configured: a statistic at a threshold is allowed.
"""

from __future__ import annotations

import enum
import itertools
import math
import operator
import statistics
from collections.abc import Sequence
from decimal import Decimal

import attrs

from perpsbot.config import RiskConfig

#: How near a threshold (times one plus the largest return) a float statistic is computed
#: again in Decimal: a thousand times the float computation's worst error.
_NEAR = 1e-12


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

    def statistic(self, marks: Sequence[Decimal]) -> float | Decimal | None:
        """The sample standard deviation of returns over the last ``window`` marks: a float,
        or the exact ``Decimal`` near a threshold (see the module); None until there are that
        many marks."""
        if len(marks) < self.window:
            return None
        recent = list(itertools.islice(marks, len(marks) - self.window, None))
        prices = [float(mark) for mark in recent]
        returns = [b / a - 1.0 for a, b in itertools.pairwise(prices)]
        mean = math.fsum(returns) / len(returns)
        deviations = [r - mean for r in returns]
        volatility = math.sqrt(
            math.fsum(map(operator.mul, deviations, deviations)) / (len(returns) - 1)
        )
        margin = _NEAR * (1.0 + max(map(abs, returns)))
        if any(abs(volatility - float(t)) <= margin for t in (self.warn, self.reduce, self.halt)):
            return statistics.stdev([b / a - 1 for a, b in itertools.pairwise(recent)])
        return volatility

    def level(self, volatility: float | Decimal | None) -> VolatilityLevel:
        """The level of ``volatility``, compared exactly with the thresholds (a float far from
        them is on the same side of each as the exact value)."""
        if volatility is None:
            return VolatilityLevel.CALM
        if volatility > self.halt:
            return VolatilityLevel.HALT
        if volatility > self.reduce:
            return VolatilityLevel.REDUCE
        if volatility > self.warn:
            return VolatilityLevel.WARN
        return VolatilityLevel.CALM

    def describe(self, symbol: str, volatility: float | Decimal, level: VolatilityLevel) -> str:
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
