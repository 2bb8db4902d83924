"""Status events a :class:`~perpsbot.venue.feed.WebSocketFeed` reports about its connection.

Each carries ``feed`` (the feed's name) and ``ts_ns`` (wall clock from the injected clock).
"""

from __future__ import annotations

import attrs

__all__ = [
    "FeedConnected",
    "FeedDisconnected",
    "FeedErrorReceived",
    "FeedGapDetected",
    "FeedReconnecting",
    "FeedStale",
    "FeedStats",
    "FeedStatus",
    "FeedStopped",
    "FeedSubscribed",
]


@attrs.frozen(kw_only=True, slots=True)
class FeedConnected:
    """The websocket handshake succeeded; ``attempt`` is 0 for a first or healthy connect."""

    feed: str
    ts_ns: int
    url: str
    attempt: int


@attrs.frozen(kw_only=True, slots=True)
class FeedSubscribed:
    """Subscribe messages (one per channel) were sent on the new connection."""

    feed: str
    ts_ns: int
    channels: tuple[str, ...]
    product_ids: tuple[str, ...]


@attrs.frozen(kw_only=True, slots=True)
class FeedGapDetected:
    """``sequence_num`` jumped: frames were lost. ``level2`` was resubscribed for a snapshot."""

    feed: str
    ts_ns: int
    expected: int
    found: int


@attrs.frozen(kw_only=True, slots=True)
class FeedStale:
    """Nothing (not even a heartbeat) arrived for ``silent_s``; the feed reconnects."""

    feed: str
    ts_ns: int
    silent_s: float


@attrs.frozen(kw_only=True, slots=True)
class FeedErrorReceived:
    """The venue sent ``{"type": "error"}``; the feed reconnects and resubscribes."""

    feed: str
    ts_ns: int
    message: str


@attrs.frozen(kw_only=True, slots=True)
class FeedDisconnected:
    """A connection ended (or could not be made); ``close_code`` when the server sent one."""

    feed: str
    ts_ns: int
    reason: str
    close_code: int | None = None


@attrs.frozen(kw_only=True, slots=True)
class FeedReconnecting:
    """The feed waits ``delay_s`` before connect attempt number ``attempt`` (1-based)."""

    feed: str
    ts_ns: int
    attempt: int
    delay_s: float
    reason: str


@attrs.frozen(kw_only=True, slots=True)
class FeedStopped:
    """The feed thread has ended after :meth:`~perpsbot.venue.feed.WebSocketFeed.stop`."""

    feed: str
    ts_ns: int


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


@attrs.frozen(kw_only=True, slots=True)
class FeedStats:
    """Counters since the feed started."""

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
