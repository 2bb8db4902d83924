"""Messages between actors: frozen, keyword-only attrs classes, one module per domain.

Commands are imperative, events past tense. Every message carries ``message_id`` and
``ts_created_ns`` (wall clock), stamped by a :class:`Stamper` from the injected clock and ids.
"""

from perpsbot.messages._base import Stamper
from perpsbot.messages.feed import (
    CheckFeedSilence,
    FeedConnected,
    FeedDisconnected,
    FeedErrorReceived,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedStats,
    FeedStatus,
    FeedStopped,
    FeedSubscribed,
    MarketDataReported,
    MarketDataResumed,
)
from perpsbot.messages.market import (
    FeedState,
    FeedStatusChanged,
    MarkObserved,
    MarkSample,
    MarkSource,
    MarksSampled,
    PendingMark,
    PollQuotes,
    SampleMarks,
)

__all__ = [
    "CheckFeedSilence",
    "FeedConnected",
    "FeedDisconnected",
    "FeedErrorReceived",
    "FeedGapDetected",
    "FeedReconnecting",
    "FeedStale",
    "FeedState",
    "FeedStats",
    "FeedStatus",
    "FeedStatusChanged",
    "FeedStopped",
    "FeedSubscribed",
    "MarkObserved",
    "MarkSample",
    "MarkSource",
    "MarketDataReported",
    "MarketDataResumed",
    "MarksSampled",
    "PendingMark",
    "PollQuotes",
    "SampleMarks",
    "Stamper",
]
