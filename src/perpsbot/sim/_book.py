"""The synthetic book of one product, laid cheaply: what a level's size is made of is drawn
at every step, the ``Decimal`` size only when something looks at the level.

A laid side keeps its prices as a grid (the best price and the spacing) and, per level, the
draw its size comes from (a float) or a size already made (a ``Decimal``, kept from a side
that was taken from or restored). :func:`level_size` turns a draw into the size the book was
always laid with, so every observer (a book query, a publication, a taker, a resting order)
sees the sizes the book's rules give, the draws of the market's generator being the same.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Mapping
from decimal import ROUND_DOWN, Decimal
from itertools import islice
from types import MappingProxyType

from perpsbot.sim._products import SimProduct

__all__ = ["BookSide", "Levels", "PublishedBook", "level_size"]

Levels = dict[Decimal, Decimal]
#: A level's size, or the draw it is made of (see :func:`level_size`).
Token = float | Decimal

#: ``uniform(0.2, 1.8)``'s span, as ``random.uniform`` computes it.
_SIZE_SPAN = 1.8 - 0.2
#: How often a level at a price the book had a step before keeps its size.
_KEEP = 0.7


@functools.cache
def _depth_scales(levels: int) -> tuple[float, ...]:
    """How much larger a random level is at each depth: ``1 + 0.15 * depth``."""
    return tuple(1 + 0.15 * depth for depth in range(levels))


def level_size(spec: SimProduct, token: Token) -> Decimal:
    """The size a level's token stands for: a ``Decimal`` is the size; a draw (a float, the
    scaled ``uniform(0.2, 1.8)``) is that many times the product's level size, rounded to 6
    digits, then down to the base increment, and at least the minimum size."""
    if isinstance(token, Decimal):
        return token
    scale = Decimal(repr(round(token, 6)))
    step = spec.base_increment
    size = (spec.level_size * scale / step).to_integral_value(rounding=ROUND_DOWN) * step
    return spec.base_min_size if spec.base_min_size > size else size  # max(size, smallest)


class BookSide:
    """One side of the synthetic book, best level first; never changed once made (a taker's
    take makes a new side), so a publication may hold it and look later.

    Either a grid, the level of depth ``d`` at ``best - d * spacing`` for bids (``+`` for
    offers) for the depths ``lo <= d < lo + len(tokens)`` (those whose price is positive); or
    plain levels (a side taken from, or restored)."""

    __slots__ = ("_best", "_descending", "_levels", "_lo", "_spacing", "_spec", "_tokens")

    def __init__(
        self,
        spec: SimProduct,
        *,
        descending: bool,
        best: Decimal = Decimal(0),
        lo: int = 0,
        tokens: list[Token] | None = None,
        levels: Levels | None = None,
    ) -> None:
        self._spec = spec
        self._descending = descending
        self._spacing = spec.level_spacing
        self._best, self._lo = best, lo
        self._tokens = tokens  # None: plain levels
        self._levels = levels  # a grid's, made at the first look

    @classmethod
    def of_levels(
        cls, spec: SimProduct, levels: Mapping[Decimal, Decimal], *, descending: bool
    ) -> BookSide:
        """A side of plain levels, best first."""
        ordered = dict(sorted(levels.items(), reverse=descending))
        return cls(spec, descending=descending, levels=ordered)

    def _price(self, best: Decimal, depth: int) -> Decimal:
        if self._descending:
            return best - depth * self._spacing
        return best + depth * self._spacing

    def laid(self, rng: random.Random, best: Decimal, count: int) -> BookSide:
        """The next step's side: ``count`` levels from ``best``; a level at a price this side
        has keeps its size seven times in ten, else (and at a new price) draws a new one,
        ``uniform(0.2, 1.8)`` times the level size, deeper levels 15% larger per level.

        The hottest loop of a backtest's exchange: the draws are those of ``rng.uniform``
        written out, and no ``Decimal`` is made per level of a grid."""
        lo, hi = self._positive(best, count)
        draw = rng.random
        scales = _depth_scales(count)
        tokens: list[Token] = []
        if self._tokens is not None:
            old = self._tokens
            shift = (best - self._best) / self._spacing
            if shift != shift.to_integral_value():
                old = []  # off the old grid: no price in common
            offset = (-int(shift) if self._descending else int(shift)) - self._lo
            end = len(old)
            for depth in range(lo, hi):
                k = depth + offset
                if 0 <= k < end and draw() < _KEEP:
                    tokens.append(old[k])
                else:
                    tokens.append((0.2 + _SIZE_SPAN * draw()) * scales[depth])
        else:
            had = self._levels or {}
            for depth in range(lo, hi):
                kept = had.get(self._price(best, depth))
                if kept is not None and draw() < _KEEP:
                    tokens.append(kept)
                else:
                    tokens.append((0.2 + _SIZE_SPAN * draw()) * scales[depth])
        return BookSide(self._spec, descending=self._descending, best=best, lo=lo, tokens=tokens)

    def _positive(self, best: Decimal, count: int) -> tuple[int, int]:
        """The depths ``[lo, hi)`` of the first ``count`` whose price is positive."""
        if best > 0 and self._price(best, count - 1) > 0:
            return 0, count  # every level (the usual case)
        depths = [d for d in range(count) if self._price(best, d) > 0]
        return (depths[0], depths[-1] + 1) if depths else (0, 0)

    def levels(self) -> Mapping[Decimal, Decimal]:
        """Price -> size, best first (read only)."""
        if self._levels is None:
            spec, best, lo, tokens = self._spec, self._best, self._lo, self._tokens or []
            self._levels = {
                self._price(best, lo + j): level_size(spec, token) for j, token in enumerate(tokens)
            }
        return MappingProxyType(self._levels)

    def __bool__(self) -> bool:
        return bool(self._tokens) if self._tokens is not None else bool(self._levels)

    @property
    def best(self) -> Decimal | None:
        """The best price, or None for an empty side."""
        if self._tokens is not None:
            return self._price(self._best, self._lo) if self._tokens else None
        if not self._levels:
            return None
        return max(self._levels) if self._descending else min(self._levels)

    def best_first(self) -> Iterator[tuple[Decimal, Decimal]]:
        """The levels, best first, each made when reached."""
        if self._tokens is None or self._levels is not None:
            yield from sorted(self.levels().items(), reverse=self._descending)
            return
        spec, best, lo = self._spec, self._best, self._lo
        for j, token in enumerate(self._tokens):
            yield self._price(best, lo + j), level_size(spec, token)

    def taken(self, price: Decimal, size: Decimal) -> BookSide:
        """This side with ``size`` taken from the level at ``price``; an emptied level goes."""
        levels = dict(self.levels())
        levels[price] -= size
        if levels[price] == 0:
            del levels[price]
        return BookSide(self._spec, descending=self._descending, levels=levels)


class PublishedBook:
    """A product's book as the exchange published it: the synthetic sides with our resting
    orders (``own``: side, limit price, remaining) added on top, as levels on the first look."""

    __slots__ = ("_asks", "_bids", "_levels", "_own")

    def __init__(
        self, bids: BookSide, asks: BookSide, own: tuple[tuple[str, Decimal, Decimal], ...]
    ) -> None:
        self._bids, self._asks, self._own = bids, asks, own
        self._levels: tuple[Levels, Levels] | None = None

    def levels(self) -> tuple[Levels, Levels]:
        """Bids and asks, price -> size (shared: copy before changing them)."""
        if self._levels is None:
            bids, asks = dict(self._bids.levels()), dict(self._asks.levels())
            for side, price, remaining in self._own:
                book = bids if side == "BUY" else asks
                book[price] = book.get(price, Decimal(0)) + remaining
            self._levels = (bids, asks)
        return self._levels

    def top(
        self, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The best ``limit`` bid and ask levels, best first, making no more of the book than
        they need."""
        if self._levels is not None:
            bids, asks = self._levels
            return (
                sorted(bids.items(), reverse=True)[:limit],
                sorted(asks.items())[:limit],
            )
        return self._top(self._bids, "BUY", limit, True), self._top(
            self._asks, "SELL", limit, False
        )

    def _top(
        self, side: BookSide, own_side: str, limit: int, descending: bool
    ) -> list[tuple[Decimal, Decimal]]:
        own = [(price, left) for order_side, price, left in self._own if order_side == own_side]
        if not own:
            return list(islice(side.best_first(), limit))
        merged: Levels = {}
        for price, size in side.best_first():
            if len(merged) >= limit:
                break
            merged[price] = size
        for price, remaining in own:
            merged[price] = merged.get(price, Decimal(0)) + remaining
        return sorted(merged.items(), reverse=descending)[:limit]
