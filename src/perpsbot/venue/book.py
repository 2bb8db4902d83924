"""A local level2 order book for one product, kept from snapshots and absolute-size updates.

Levels live in a dict per side (price -> size); the best price of each side comes from a heap
with lazy deletion, so an update costs O(log n) and a best-price query O(1) amortised, however
deep the book. A heap is rebuilt once its stale entries outnumber the live levels.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from perpsbot.venue.frames import BookSide, L2Event

__all__ = ["OrderBook"]

_TWO = Decimal(2)


class _Side:
    """One side of the book; ``sign`` is -1 for bids (max-heap via negated prices), 1 for asks."""

    __slots__ = ("_heap", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.levels: dict[Decimal, Decimal] = {}
        self._heap: list[Decimal] = []

    def clear(self) -> None:
        self.levels.clear()
        self._heap.clear()

    def apply(self, changes: BookSide) -> None:
        levels = self.levels
        heap = self._heap
        sign = self.sign
        for price, size in changes:
            if size:
                if price not in levels:
                    heapq.heappush(heap, price if sign > 0 else -price)
                levels[price] = size
            else:
                # The price stays in the heap until it surfaces; best() skips it then.
                levels.pop(price, None)
        if len(heap) > 2 * len(levels) + 64:
            self._rebuild()

    def _rebuild(self) -> None:
        self._heap = [p if self.sign > 0 else -p for p in self.levels]
        heapq.heapify(self._heap)

    def best(self) -> tuple[Decimal, Decimal] | None:
        heap = self._heap
        levels = self.levels
        while heap:
            price = heap[0] if self.sign > 0 else -heap[0]
            size = levels.get(price)
            if size is not None:
                return price, size
            heapq.heappop(heap)
        return None

    def depth(self, n: int) -> list[tuple[Decimal, Decimal]]:
        prices = sorted(self.levels, reverse=self.sign < 0)[:n]
        return [(p, self.levels[p]) for p in prices]


class OrderBook:
    """The local book of one product.

    Feed it every :class:`~perpsbot.venue.frames.L2Event` for the product, in order. A snapshot
    replaces the book; an update sets absolute sizes and deletes levels whose size is zero.
    Until the first snapshot (or after :meth:`invalidate`) the book is not ``ready``.

    Args:
        product_id: the product this book follows; events for others are refused.
    """

    __slots__ = ("_asks", "_bids", "_ready", "product_id")

    def __init__(self, product_id: str) -> None:
        self.product_id = product_id
        self._bids = _Side(-1)
        self._asks = _Side(1)
        self._ready = False

    @property
    def ready(self) -> bool:
        """True once a snapshot arrived and no gap invalidated it since."""
        return self._ready

    def apply(self, event: L2Event) -> None:
        """Apply one snapshot or update.

        Raises:
            ValueError: the event is for another product.
        """
        if event.product_id != self.product_id:
            raise ValueError(
                f"event.product_id must be {self.product_id!r}, was {event.product_id!r}"
            )
        if event.is_snapshot:
            self._bids.clear()
            self._asks.clear()
            self._ready = True
        self._bids.apply(event.bids)
        self._asks.apply(event.asks)

    def invalidate(self) -> None:
        """Forget the book (after a sequence gap); it is ready again at the next snapshot."""
        self._bids.clear()
        self._asks.clear()
        self._ready = False

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """The highest bid as ``(price, size)``, or None when the side is empty."""
        return self._bids.best()

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """The lowest ask as ``(price, size)``, or None when the side is empty."""
        return self._asks.best()

    def mid(self) -> Decimal | None:
        """The mid price, or None unless both sides have a level."""
        bid = self._bids.best()
        ask = self._asks.best()
        if bid is None or ask is None:
            return None
        return (bid[0] + ask[0]) / _TWO

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
            f"OrderBook({self.product_id!r}, ready={self._ready}, "
            f"bid={self.best_bid()}, ask={self.best_ask()}, levels={len(self)})"
        )
