"""The report's measures of one equity curve: drawdown, Sharpe, Sortino, time in a position.

Returns are simple returns between consecutive points of the curve (one per bar when the marks
are bars), annualised by ``sqrt(periods a year)``: a 365-day year (crypto trades every day)
divided by the curve's median spacing. No risk-free rate.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from decimal import Decimal

import attrs

__all__ = [
    "YEAR_NS",
    "Drawdown",
    "drawdown",
    "exposure",
    "periods_per_year",
    "returns",
    "sharpe",
    "sortino",
]

YEAR_NS = 365 * 86_400 * 10**9
"""A 365-day year: crypto markets never close."""


@attrs.frozen(kw_only=True)
class Drawdown:
    """The largest fall from a peak, in USD and as a percentage of that peak (each the largest
    of its own kind: they may come from different falls)."""

    usd: Decimal
    pct: float


def drawdown(start: Decimal, equity: Sequence[Decimal]) -> Drawdown:
    """The largest drawdown of ``equity``, peaks counted from ``start`` (equity before any
    trade)."""
    peak, usd, pct = start, Decimal(0), 0.0
    for value in equity:
        peak = max(peak, value)
        usd = max(usd, peak - value)
        if value < peak and peak > 0:  # a ratio: float is exact enough, and 10x faster
            pct = max(pct, float(peak - value) / float(peak) * 100)
    return Drawdown(usd=usd, pct=pct)


def returns(equity: Sequence[Decimal]) -> list[float]:
    """Simple returns between consecutive points (none across a point at or below zero)."""
    values = [float(value) for value in equity]
    return [now / before - 1 for before, now in itertools.pairwise(values) if before > 0]


def periods_per_year(times_ns: Sequence[int]) -> float | None:
    """A 365-day year over the median spacing of ``times_ns``; None with fewer than 2 times."""
    gaps = [b - a for a, b in itertools.pairwise(times_ns)]
    if not gaps or statistics.median(gaps) <= 0:
        return None
    return YEAR_NS / statistics.median(gaps)


def sharpe(period_returns: Sequence[float], per_year: float | None) -> float | None:
    """``mean / sample standard deviation x sqrt(per_year)``; None with fewer than 2 returns
    or none that differ."""
    if per_year is None or len(period_returns) < 2:
        return None
    mean = statistics.fmean(period_returns)
    spread = math.sqrt(
        math.fsum((r - mean) ** 2 for r in period_returns) / (len(period_returns) - 1)
    )  # statistics.stdev, without its exact fractions (seconds for a month of minutes)
    if spread == 0:
        return None
    return mean / spread * math.sqrt(per_year)


def sortino(period_returns: Sequence[float], per_year: float | None) -> float | None:
    """``mean / downside deviation x sqrt(per_year)``, the downside deviation being
    ``sqrt(mean(min(r, 0)^2))`` over every return; None with fewer than 2 returns or no loss."""
    if per_year is None or len(period_returns) < 2:
        return None
    downside = math.sqrt(statistics.fmean(min(r, 0.0) ** 2 for r in period_returns))
    if downside == 0:
        return None
    return statistics.fmean(period_returns) / downside * math.sqrt(per_year)


def exposure(
    spans_ns: Sequence[tuple[int, int | None]], start_ns: int, end_ns: int
) -> float | None:
    """The fraction of ``[start_ns, end_ns]`` covered by the union of ``spans_ns`` (an end of
    None: still open at the end); None for an empty window."""
    if end_ns <= start_ns:
        return None
    covered, reach = 0, start_ns
    for opened, closed in sorted((max(a, start_ns), min(end_ns if b is None else b, end_ns))
                                 for a, b in spans_ns):  # fmt: skip
        begin = max(opened, reach)
        if closed > begin:
            covered += closed - begin
            reach = closed
    return covered / (end_ns - start_ns)
