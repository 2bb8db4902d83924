"""The streamer's mailbox: which of its messages conflate (the feed's state events into the
latest one, reports and silence checks into the latest of each) and which stay FIFO."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from perpsbot.messages import (
    CheckFeedSilence,
    FeedConnected,
    FeedDisconnected,
    FeedErrorReceived,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedSubscribed,
    MarketDataReported,
    MarketDataResumed,
)
from perpsbot.runtime import ConflatingMailbox

# The connection's state: only the latest matters (see messages.feed), so they share a key.
_STATE_EVENTS = frozenset(
    {FeedConnected, FeedSubscribed, FeedGapDetected, FeedStale, FeedErrorReceived,
     FeedDisconnected, FeedReconnecting, MarketDataResumed}
)  # fmt: skip


def _streamer_key(message: Any) -> Hashable | None:
    kind = type(message)
    if kind in _STATE_EVENTS:
        return "feed state"  # they all update one state
    if kind is MarketDataReported:
        return "report"
    if kind is CheckFeedSilence:
        return "silence check"
    return None  # FeedStopped, Subscribe, ...: never conflated


def streamer_mailbox() -> ConflatingMailbox:
    """The streamer's mailbox: the feed's state events conflate into the latest one, reports
    and silence checks into the latest of each (a reconnect storm queues nothing); the feed's
    end (``FeedStopped``) and subscriptions are FIFO and never dropped."""
    return ConflatingMailbox(key_of=_streamer_key)
