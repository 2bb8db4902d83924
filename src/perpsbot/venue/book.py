"""A local level2 order book for one product, kept from snapshots and absolute-size updates.

Levels live in a dict per side, keyed by price as a float (negated for bids, so both sides
are min-heaps); the best price of each side comes from a heap with lazy deletion, so an update
costs O(log n) and a best-price query O(1) amortised, however deep the book. A heap is rebuilt
once its stale entries outnumber the live levels.

Floats are what the decoder hands over (see :class:`~perpsbot.venue.frames.BookUpdate`); the
public reads convert at the edge, exactly, through ``Decimal(repr(price))``: :meth:`mid`,
:meth:`best_bid`, :meth:`bids` and friends return ``Decimal``. :meth:`top` is the float read
for the feed thread, which must not pay for decimals on every frame.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from perpsbot.venue.frames import L2Event

__all__ = ["OrderBook", "exact"]

_TWO = Decimal(2)


def exact(value: float) -> Decimal:
    """The decimal a wire price or size was (up to 15 significant digits, the float's own)."""
    return Decimal(repr(value))


class _Side:
    """One side: ``levels`` maps key -> size, where key is the price (asks) or minus it (bids)."""

    __slots__ = ("heap", "levels", "sign")

    def __init__(self, sign: float) -> None:
        self.sign = sign
        self.levels: dict[float, float] = {}
        self.heap: list[float] = []

    def clear(self) -> None:
        self.levels.clear()
        self.heap.clear()

    def trim(self) -> None:
        """Rebuild the heap from the live levels (once stale keys, of deleted levels,
        outnumber them)."""
        self.heap = list(self.levels)
        heapq.heapify(self.heap)

    def best_key(self) -> float | None:
        heap = self.heap
        levels = self.levels
        while heap:
            key = heap[0]
            if key in levels:
                return key
            heapq.heappop(heap)  # a deleted level surfaced: drop it for good
        return None

    def best(self) -> tuple[Decimal, Decimal] | None:
        key = self.best_key()
        if key is None:
            return None
        return exact(key * self.sign), exact(self.levels[key])

    def depth(self, n: int) -> list[tuple[Decimal, Decimal]]:
        keys = sorted(self.levels)[:n]
        return [(exact(k * self.sign), exact(self.levels[k])) for k in keys]


class OrderBook:
    """The local book of one product.

    Feed it every :class:`~perpsbot.venue.frames.L2Event` for the product, in order. A snapshot
    replaces the book; an update sets absolute sizes and deletes levels whose size is zero.
    Until the first snapshot (or after :meth:`invalidate`) the book is not ``ready``.

    Args:
        product_id: the product this book follows; events for others are refused.
    """

    __slots__ = ("_asks", "_bids", "product_id", "ready")

    def __init__(self, product_id: str) -> None:
        self.product_id = product_id
        self._bids = _Side(-1.0)
        self._asks = _Side(1.0)
        self.ready = False
        """True once a snapshot arrived and no gap invalidated it since (read it, never set
        it: a plain attribute because the feed thread reads it for every frame)."""

    def apply(self, event: L2Event) -> None:
        """Apply one snapshot or update (the feed thread's hot path).

        Raises:
            ValueError: the event is for another product.
        """
        if event.product_id != self.product_id:
            raise ValueError(
                f"event.product_id must be {self.product_id!r}, was {event.product_id!r}"
            )
        bids = self._bids
        asks = self._asks
        if event.type == "snapshot":
            bids.clear()
            asks.clear()
            self.ready = True
        bid_levels, bid_heap = bids.levels, bids.heap
        ask_levels, ask_heap = asks.levels, asks.heap
        push = heapq.heappush
        for update in event.updates:
            size = update.new_quantity
            if update.side == "bid":
                key = -update.price_level
                if size:
                    if key not in bid_levels:
                        push(bid_heap, key)
                    bid_levels[key] = size
                else:  # the key stays in the heap until it surfaces
                    bid_levels.pop(key, None)
            else:
                key = update.price_level
                if size:
                    if key not in ask_levels:
                        push(ask_heap, key)
                    ask_levels[key] = size
                else:
                    ask_levels.pop(key, None)
        if len(bid_heap) > 2 * len(bid_levels) + 64:
            bids.trim()
        if len(ask_heap) > 2 * len(ask_levels) + 64:
            asks.trim()

    def invalidate(self) -> None:
        """Forget the book (after a sequence gap); it is ready again at the next snapshot."""
        self._bids.clear()
        self._asks.clear()
        self.ready = False

    def top(self) -> tuple[float, float] | None:
        """``(best bid, best ask)`` prices as floats, or None unless both sides have a level."""
        bid = self._bids.best_key()
        ask = self._asks.best_key()
        if bid is None or ask is None:
            return None
        return -bid, ask

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """The highest bid as ``(price, size)``, or None when the side is empty."""
        return self._bids.best()

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """The lowest ask as ``(price, size)``, or None when the side is empty."""
        return self._asks.best()

    def mid(self) -> Decimal | None:
        """The mid price, exact, or None unless both sides have a level."""
        top = self.top()
        return None if top is None else mid_of(*top)

    def bids(self, depth: int = 10) -> list[tuple[Decimal, Decimal]]:
        """The best ``depth`` bid levels, best first (O(n log n); not for the hot path)."""
        return self._bids.depth(depth)

    def asks(self, depth: int = 10) -> list[tuple[Decimal, Decimal]]:
        """The best ``depth`` ask levels, best first (O(n log n); not for the hot path)."""
        return self._asks.depth(depth)

    def __len__(self) -> int:
        return len(self._bids.levels) + len(self._asks.levels)

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.product_id!r}, ready={self.ready}, "
            f"bid={self.best_bid()}, ask={self.best_ask()}, levels={len(self)})"
        )


def mid_of(bid: float, ask: float) -> Decimal:
    """The exact mid of two wire prices given as floats (see :func:`exact`)."""
    return (exact(bid) + exact(ask)) / _TWO
