"""The market's history before the simulated exchange started: generated from the seed.

A day of one-minute candles ends where a new market starts (its origin), and the days
before it are made on demand, one UTC-minute-aligned day at a time, each ending at the open
of the day after it. Every day is a pure function of the seed, the product and the origin,
so a download of any past range gives the same candles on every run and every machine.
Before :data:`HISTORY_DAYS` days of history the product was not listed: no candles.
"""

from __future__ import annotations

import functools
import math
import random
from decimal import Decimal

from perpsbot.ids import seeded_rng
from perpsbot.sim._config import derived_seed
from perpsbot.sim._products import SimProduct
from perpsbot.sim._wire import quantize_down, quantize_near

__all__ = ["HISTORY_DAYS", "day_candles", "deep_history"]

#: Days of generated candles before a market's origin; older ranges have none.
HISTORY_DAYS = 366
_DAY_S = 86400
Candle = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]


@functools.lru_cache(maxsize=64)
def day_candles(
    spec: SimProduct, seed: int, first_minute: int, end_price: Decimal
) -> tuple[Candle, ...]:
    """1,440 one-minute candles from ``first_minute`` whose last close is ``end_price``.

    Pure in its arguments, so sims started with one seed share it (and the cache)."""
    rng = _day_rng(spec, seed, first_minute)
    points = _walk(rng)
    scale = float(end_price) / points[-1]
    tick = spec.price_increment
    # A minute closes where the next one opens: each point is priced once.
    prices = [quantize_near(Decimal(repr(point * scale)), tick) for point in points]
    candles = []
    for i in range(1440):
        o, c = prices[i], prices[i + 1]
        wiggle = Decimal(repr(abs(rng.gauss(0.0, 0.0004)))) * o
        h = quantize_near(max(o, c) + wiggle, tick)
        lo = quantize_near(min(o, c) - wiggle, tick)
        vol = quantize_down(
            spec.level_size * Decimal(repr(rng.uniform(1, 20))), spec.base_increment
        )
        candles.append((o, h, lo, c, vol))
    return tuple(candles)


def _day_rng(spec: SimProduct, seed: int, first_minute: int) -> random.Random:
    return seeded_rng(derived_seed(seed, "history", spec.product_id, first_minute))


def _walk(rng: random.Random) -> list[float]:
    """A day's relative price path: 1,441 points from 1.0 (the first draws of its rng)."""
    points = [1.0]
    for _ in range(1440):
        points.append(points[-1] * math.exp(rng.gauss(0.0, 0.0012)))
    return points


def _first_open(spec: SimProduct, seed: int, first_minute: int, end_price: Decimal) -> Decimal:
    """``day_candles(...)[0][0]`` from the walk alone: cheap enough to chain a year of days."""
    points = _walk(_day_rng(spec, seed, first_minute))
    return quantize_near(Decimal(repr(float(end_price) / points[-1])), spec.price_increment)


@functools.lru_cache(maxsize=16)
def _day_opens(spec: SimProduct, seed: int, origin_s: int, origin_open: Decimal) -> list[Decimal]:
    """The first open of each generated day before the origin, nearest first; grown on use
    (the cached list is extended in place, so day ``k`` is made once)."""
    return [origin_open]


def _day(
    spec: SimProduct, seed: int, origin_s: int, origin_open: Decimal, k: int
) -> tuple[Candle, ...]:
    """Day ``k`` (1 = the day before the origin), ending at day ``k - 1``'s first open."""
    opens = _day_opens(spec, seed, origin_s, origin_open)
    while len(opens) <= k:
        opens.append(_first_open(spec, seed, origin_s - len(opens) * _DAY_S, opens[-1]))
    return day_candles(spec, seed, origin_s - k * _DAY_S, opens[k - 1])


def deep_history(
    spec: SimProduct, seed: int, origin_s: int, origin_open: Decimal, span_s: tuple[int, int]
) -> list[tuple[int, list[Decimal]]]:
    """The generated candles starting in ``span_s``, ``[from, to)`` seconds, oldest first."""
    from_s, to_s = span_s
    listed_s = origin_s - HISTORY_DAYS * _DAY_S
    from_s, to_s = max(from_s, listed_s), min(to_s, origin_s)
    out: list[tuple[int, list[Decimal]]] = []
    if from_s >= to_s:
        return out
    first_k = -((from_s - origin_s) // _DAY_S)  # the day holding from_s (ceil of the distance)
    last_k = -((to_s - 1 - origin_s) // _DAY_S)
    for k in range(first_k, last_k - 1, -1):
        day_start = origin_s - k * _DAY_S
        for i, candle in enumerate(_day(spec, seed, origin_s, origin_open, k)):
            minute = day_start + 60 * i
            if from_s <= minute < to_s:
                out.append((minute, list(candle)))
    return out
