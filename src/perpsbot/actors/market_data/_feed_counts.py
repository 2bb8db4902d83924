"""What the market feed's connections counted, added up across the connections a streamer
replaced (each read once its thread has ended), so its counters only grow while it lives."""

from __future__ import annotations

import attrs

from perpsbot.messages import FeedLag, FeedStats, MarketDataReported

_NO_STATS = FeedStats(**{field.name: 0 for field in attrs.fields(FeedStats)})


@attrs.frozen
class FeedCounts:
    """What the connections replaced so far counted, together."""

    stats: FeedStats = _NO_STATS
    marks_sent: int = 0
    bad_timestamps: int = 0
    lag: FeedLag | None = None

    def plus(self, report: MarketDataReported) -> FeedCounts:
        added = report.stats
        return FeedCounts(
            stats=FeedStats(**{
                field.name: getattr(self.stats, field.name) + getattr(added, field.name)
                for field in attrs.fields(FeedStats)
            }),
            marks_sent=self.marks_sent + report.marks_sent,
            bad_timestamps=self.bad_timestamps + report.bad_timestamps,
            lag=report.lag if self.lag is None else _lag_plus(self.lag, report.lag),
        )  # fmt: skip


def _lag_plus(before: FeedLag, after: FeedLag) -> FeedLag:
    """Two connections' lag histograms (the same buckets) as one."""
    return FeedLag(
        bounds_s=after.bounds_s,
        counts=tuple(a + b for a, b in zip(before.counts, after.counts, strict=True)),
        count=before.count + after.count,
        sum_s=before.sum_s + after.sum_s,
        latest_s=before.latest_s if after.latest_s is None else after.latest_s,
    )
