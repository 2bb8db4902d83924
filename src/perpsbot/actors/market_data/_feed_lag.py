"""Feed lag, measured on the feed thread: exchange timestamp to local receipt, as a histogram.

Fed by the mark translator at a socket read at most every 10 ms, one sample per symbol
(see ``FeedLag``), never per frame: the level2 hot path parses no timestamp for it.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left

from perpsbot.messages import FeedLag

__all__ = ["LAG_BOUNDS_S", "LagMeter"]

#: The histogram's bucket bounds in seconds: a healthy feed lags a few milliseconds; past a
#: second the data is old for a strategy that samples every few seconds.
LAG_BOUNDS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LagMeter:
    """Counts lag samples into fixed buckets; one thread observes, :meth:`snapshot` copies.

    It also holds its owner's sampling state: ``next_sample_ns``, the monotonic time from
    which the next batch is sampled, and ``other_event_ns``, the exchange's time of the
    current batch's latest ticker or market-trades message (0: none).

    Args:
        bounds_s: the buckets' upper bounds, ascending.
    """

    __slots__ = (
        "_bounds_ns",
        "_bounds_s",
        "_count",
        "_counts",
        "_latest_ns",
        "_sum_ns",
        "next_sample_ns",
        "other_event_ns",
    )

    def __init__(self, bounds_s: tuple[float, ...] = LAG_BOUNDS_S) -> None:
        if list(bounds_s) != sorted(set(bounds_s)) or not bounds_s or bounds_s[0] <= 0:
            raise ValueError(f"bounds_s must be positive and strictly ascending, was {bounds_s}")
        self._bounds_s = bounds_s
        self._bounds_ns = [round(b * 1e9) for b in bounds_s]
        self._counts = [0] * (len(bounds_s) + 1)  # the last: beyond every bound
        self._count = 0
        self._sum_ns = 0
        self._latest_ns: int | None = None
        self.next_sample_ns = 0
        self.other_event_ns = 0

    def observe(self, lag_ns: int) -> None:
        """One sample: receipt time minus the exchange's timestamp, in nanoseconds."""
        lag_ns = max(lag_ns, 0)  # the local clock is behind the exchange's: no lag to show
        self._counts[bisect_left(self._bounds_ns, lag_ns)] += 1
        self._count += 1
        self._sum_ns += lag_ns
        self._latest_ns = lag_ns

    def snapshot(self) -> FeedLag:
        cumulative = tuple(itertools.accumulate(self._counts[:-1]))
        latest = self._latest_ns
        return FeedLag(
            bounds_s=self._bounds_s,
            counts=cumulative,
            count=self._count,
            sum_s=self._sum_ns / 1e9,
            latest_s=None if latest is None else latest / 1e9,
        )
