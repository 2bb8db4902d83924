"""The fill and price model of a candle backtest: where the market stands inside each bar.

A bar of ``G`` seconds plays its path in its first half and then holds its close:

- the open at ``start + G/8``, the extreme nearer the open (high or low) at ``start + G/4``,
  the farther one at ``start + 3G/8`` and the close at ``start + G/2``, held until the bar
  ends (a tie goes to the high first);
- the simulated exchange lays its book around each of those prices as it does around its
  own walk: the best bid and ask half a level spacing either side, levels of seeded random
  size. So a market order fills at the path price plus half the product's level spacing plus
  whatever it walks through beyond the best level: that is the slippage, the same model the
  paper account trades on. Resting limit and stop orders fill when the path reaches them;
- the bot polls quotes every half bar and samples marks at each bar's end, so it decides on
  closes, and an order it sends then fills against the book laid around that close.

A product with no candle for a bar (the venue leaves minutes without trades out) holds its
last price.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.venue import Candle

__all__ = ["PathPoint", "bar_path", "merged_path"]

#: Where in a bar (as eighths of it) the open, the nearer extreme, the farther extreme and
#: the close are reached.
_EIGHTHS = (1, 2, 3, 4)


@attrs.frozen(kw_only=True)
class PathPoint:
    """The fair prices of the products that move at one instant."""

    at_s: float
    """Unix seconds (wall clock)."""
    prices: Mapping[str, Decimal]


def bar_path(candle: Candle, granularity_s: int) -> list[tuple[float, Decimal]]:
    """The four ``(Unix seconds, price)`` points of one bar, oldest first."""
    up_first = candle.high - candle.open <= candle.open - candle.low
    first, second = (candle.high, candle.low) if up_first else (candle.low, candle.high)
    prices = (candle.open, first, second, candle.close)
    return [
        (candle.start_s + granularity_s * eighth / 8, price)
        for eighth, price in zip(_EIGHTHS, prices, strict=True)
    ]


def merged_path(series: Mapping[str, Iterable[Candle]], granularity_s: int) -> Iterator[PathPoint]:
    """The path of every product, one point per instant at which any of them moves, in time
    order (each series oldest first, as the store gives it)."""
    iterators = {pid: iter(candles) for pid, candles in series.items()}
    heads: dict[str, Candle] = {}
    for pid, candles in iterators.items():
        head = next(candles, None)
        if head is not None:
            heads[pid] = head
    while heads:
        start_s = min(candle.start_s for candle in heads.values())
        moving = sorted(pid for pid, candle in heads.items() if candle.start_s == start_s)
        paths: dict[str, Sequence[tuple[float, Decimal]]] = {}
        for pid in moving:
            paths[pid] = bar_path(heads[pid], granularity_s)
            following = next(iterators[pid], None)
            if following is None:
                del heads[pid]
            elif following.start_s <= start_s:
                raise ValueError(
                    f"candles of {pid} must be oldest first without repeats, found"
                    f" {following.start_s} after {start_s}"
                )
            else:
                heads[pid] = following
        for index in range(len(_EIGHTHS)):
            at_s = start_s + granularity_s * _EIGHTHS[index] / 8
            yield PathPoint(at_s=at_s, prices={pid: paths[pid][index][1] for pid in moving})
