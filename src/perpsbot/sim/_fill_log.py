"""Every fill the exchange keeps, in the order they were made, indexed by order and by time so
a fills query costs what it finds, not what the exchange ever filled."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import overload

from perpsbot.sim._orders import SimFill

__all__ = ["FillLog"]


class FillLog(Sequence[SimFill]):
    """The fills, oldest first: appended as made, replaced whole (a restore, a forgetting).

    Fills are made at the exchange's time, which only a clock-skew fault moves back; while
    their times never go back a query by time bisects, else it reads them all."""

    def __init__(self) -> None:
        self._fills: list[SimFill] = []
        self._times: list[int] = []
        self._by_order: dict[str, list[int]] = {}  # order id -> positions in _fills
        self._in_time_order = True

    def append(self, fill: SimFill) -> None:
        if self._times and fill.time_ns < self._times[-1]:
            self._in_time_order = False
        self._by_order.setdefault(fill.order_id, []).append(len(self._fills))
        self._fills.append(fill)
        self._times.append(fill.time_ns)

    def replace(self, fills: Iterable[SimFill]) -> None:
        """Keep ``fills`` (oldest first) instead."""
        self._fills, self._times, self._by_order = [], [], {}
        self._in_time_order = True
        for fill in fills:
            self.append(fill)

    def of_order(self, order_id: str) -> list[SimFill]:
        """The fills of one order, oldest first."""
        return [self._fills[p] for p in self._by_order.get(order_id, ())]

    def newest_first(
        self, *, order_ids: Collection[str] = (), since_ns: int | None = None
    ) -> Iterator[SimFill]:
        """The fills newest first: of ``order_ids`` only (if any are named), and with those
        made at or after ``since_ns`` among them (a query still checks the time itself: when
        the times went back, every fill is among them)."""
        positions: Sequence[int]
        if order_ids:
            positions = sorted(p for o in set(order_ids) for p in self._by_order.get(o, ()))
        elif since_ns is not None and self._in_time_order:
            positions = range(bisect_left(self._times, since_ns), len(self._fills))
        else:
            positions = range(len(self._fills))
        fills = self._fills
        return (fills[p] for p in reversed(positions))

    def __len__(self) -> int:
        return len(self._fills)

    @overload
    def __getitem__(self, index: int) -> SimFill: ...

    @overload
    def __getitem__(self, index: slice) -> list[SimFill]: ...

    def __getitem__(self, index: int | slice) -> SimFill | list[SimFill]:
        return self._fills[index]

    def __iter__(self) -> Iterator[SimFill]:
        return iter(self._fills)
