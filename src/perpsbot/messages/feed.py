"""The feeds' messages: the market-data feed's connection events, its counters, the
streamer's silence check, and the ``user`` channel's health for the executor.

The feed thread reports each connection event (``FeedConnected`` ... ``FeedStopped``) and,
at most every few seconds while data flows, a :class:`MarketDataReported` with its counters.
Both are statuses: only the latest state matters, so the streamer's mailbox conflates them
per class (a burst of reconnects keeps the latest of each, never a backlog). They are not
journaled events; the streamer publishes its own ``FeedStatusChanged`` from them.

Those carry ``feed`` (the feed's name), ``message_id`` and ``ts_created_ns`` (wall clock).
"""

from __future__ import annotations

import attrs

__all__ = [
    "CheckFeedSilence",
    "FeedConnected",
    "FeedDisconnected",
    "FeedErrorReceived",
    "FeedGapDetected",
    "FeedLag",
    "FeedReconnecting",
    "FeedStale",
    "FeedStats",
    "FeedStatus",
    "FeedStopped",
    "FeedSubscribed",
    "MarketDataReported",
    "MarketDataResumed",
    "UserFeedChanged",
]


@attrs.frozen(kw_only=True)
class FeedConnected:
    """The websocket handshake succeeded; ``attempt`` is 0 for a first or healthy connect."""

    message_id: str
    ts_created_ns: int
    feed: str
    url: str
    attempt: int


@attrs.frozen(kw_only=True)
class FeedSubscribed:
    """Subscribe messages (one per channel) were sent on the new connection."""

    message_id: str
    ts_created_ns: int
    feed: str
    channels: tuple[str, ...]
    product_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class FeedGapDetected:
    """``sequence_num`` jumped: frames were lost. ``level2`` was resubscribed for a snapshot."""

    message_id: str
    ts_created_ns: int
    feed: str
    expected: int
    found: int


@attrs.frozen(kw_only=True)
class FeedStale:
    """Not a byte arrived for ``silent_s``; the feed reconnects."""

    message_id: str
    ts_created_ns: int
    feed: str
    silent_s: float


@attrs.frozen(kw_only=True)
class FeedErrorReceived:
    """The venue sent ``{"type": "error"}``; the feed reconnects and resubscribes."""

    message_id: str
    ts_created_ns: int
    feed: str
    message: str


@attrs.frozen(kw_only=True)
class FeedDisconnected:
    """A connection ended (or could not be made); ``close_code`` when the server sent one."""

    message_id: str
    ts_created_ns: int
    feed: str
    reason: str
    close_code: int | None = None


@attrs.frozen(kw_only=True)
class FeedReconnecting:
    """The feed waits ``delay_s`` before connect attempt number ``attempt`` (1-based)."""

    message_id: str
    ts_created_ns: int
    feed: str
    attempt: int
    delay_s: float
    reason: str


@attrs.frozen(kw_only=True)
class FeedStopped:
    """The feed thread has ended."""

    message_id: str
    ts_created_ns: int
    feed: str


FeedStatus = (
    FeedConnected
    | FeedSubscribed
    | FeedGapDetected
    | FeedStale
    | FeedErrorReceived
    | FeedDisconnected
    | FeedReconnecting
    | FeedStopped
)


@attrs.frozen(kw_only=True)
class FeedStats:
    """A feed's counters since it started."""

    frames: int
    decode_errors: int
    callback_errors: int
    gaps: int
    out_of_order: int
    stale: int
    connect_attempts: int
    connects: int
    protocol_errors: int
    """Connections failed because the server broke the websocket framing rules."""
    skipped: int = 0
    """Frames forwarded undecoded, as ``SkippedFrame`` (counted in ``frames`` too): their
    channel was of no use to the consumer then (``WebSocketFeed.skip_undecoded``)."""


@attrs.frozen(kw_only=True)
class FeedLag:
    """Feed lag since the feed started: from the exchange's timestamp on a market-data
    message to its receipt here (the socket read that brought it), as a histogram.

    Sampled, not per message: at a socket read at most every 10 ms, the latest level2 message
    of each book it changed and the latest ticker or market-trades message. A negative lag
    (the local clock behind the exchange's) counts as 0.
    """

    bounds_s: tuple[float, ...]
    """The buckets' upper bounds, ascending."""
    counts: tuple[int, ...]
    """Per bound, the samples at most that large (cumulative, as Prometheus counts)."""
    count: int
    sum_s: float
    latest_s: float | None
    """The latest sample; None before the first."""


@attrs.frozen(kw_only=True)
class MarketDataResumed:
    """Market data arrives on a new connection, or again after a gap (the book was resynced).

    Sent once, as it happens: the feed is healthy from here.
    """

    message_id: str
    ts_created_ns: int
    feed: str


@attrs.frozen(kw_only=True)
class MarketDataReported:
    """What the feed thread has done, reported by it at most every few seconds while market
    data flows (a status: the latest report is all that matters).

    ``last_data_ns`` is the monotonic time of the latest market-data message (heartbeats,
    pings and partial frames aside): the streamer judges silence from it on its own timer.
    """

    message_id: str
    ts_created_ns: int
    feed: str
    last_data_ns: int
    marks_sent: int
    books_ready: tuple[str, ...]
    """The symbols whose level2 book is synced."""
    bad_timestamps: int
    stats: FeedStats
    lag: FeedLag


@attrs.frozen(kw_only=True)
class CheckFeedSilence:
    """The streamer's own timer: judge whether market data has stopped arriving."""


@attrs.frozen(kw_only=True)
class UserFeedChanged:
    """The ``user`` channel became healthy (order updates flow) or unhealthy (the executor
    polls its orders over REST instead); told to the executor from the user feed's thread."""

    healthy: bool
    detail: str
    restates_open_orders: bool = True
    """The channel restates the open orders as it (re)subscribes (Advanced Trade's snapshot):
    after a gap, reading the orders in flight once catches up. False (Global's user channels,
    no snapshot): the executor reconciles once the channel is healthy again."""
