"""What the market-data actors show when inspected: ``bot/streamer``, ``bot/marks``,
``bot/poller``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from perpsbot.messages import FeedLag, FeedState, FeedStats, MarkSource

__all__ = ["LatestMark", "MarkWindowState", "PollerMode", "QuotePollerState", "StreamerState"]


@attrs.frozen(kw_only=True)
class StreamerState:
    """The streamer's inspection reply: the feed's state and this incarnation's counters.

    The counters add up every connection of this incarnation, the current one as of its
    latest report (a replacement counts as a reconnect)."""

    state: FeedState
    detail: str
    channels: tuple[str, ...]
    symbols: tuple[str, ...]
    feed_restarts: int
    feed: FeedStats | None
    """None before the first connection reported."""
    gaps: int
    reconnects: int
    marks_sent: int
    last_data_age_s: float | None
    """None until market data arrived."""
    bad_timestamps: int
    lag: FeedLag | None
    books_ready: tuple[str, ...]
    """The current connection's symbols whose order book is ready."""


@attrs.frozen(kw_only=True)
class LatestMark:
    """A symbol's latest mark in the window actor."""

    mark: Decimal
    source: MarkSource
    age_s: float


@attrs.frozen(kw_only=True)
class MarkWindowState:
    """The mark window's inspection reply: the latest marks and the sampling windows."""

    cycle: int
    symbols: tuple[str, ...]
    stale_after_s: float
    latest: Mapping[str, LatestMark]
    """Each symbol's latest mark (absent: none yet)."""
    windows: Mapping[str, tuple[Decimal, ...]]
    """Each symbol's sampled marks, oldest first."""


PollerMode = Literal["idle", "primary", "fallback"]
"""``primary``: no feed, the poller is the source of marks; ``fallback``: polling while the
feed is unhealthy; ``idle``: the feed is healthy."""


@attrs.frozen(kw_only=True)
class QuotePollerState:
    """The quote poller's inspection reply: its mode and counters."""

    mode: PollerMode
    feed_state: FeedState
    polls: int
    skipped_while_feed_healthy: int
    marks_sent: int
    errors_by_symbol: Mapping[str, int]
