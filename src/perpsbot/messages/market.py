"""Market-data messages: marks observed, marks sampled each cycle, and the feed's health."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import NamedTuple

import attrs

from perpsbot.messages._base import positive_decimal

__all__ = [
    "FeedState",
    "FeedStatusChanged",
    "MarkObserved",
    "MarkSample",
    "MarkSource",
    "MarksSampled",
    "PendingMark",
    "PollQuotes",
    "SampleMarks",
]


class MarkSource(enum.StrEnum):
    """Where a mark came from."""

    STREAM = "stream"
    """The websocket feed (book mid, ticker mid or last trade)."""
    POLL = "poll"
    """The REST quote poller (best bid/ask mid)."""


@attrs.frozen(kw_only=True)
class MarkObserved:
    """A new mark for ``symbol``: the mid of best bid and ask, else the last trade price.

    ``ts_received_ns`` is the receiving process's monotonic clock when the data arrived, so
    freshness and latency are measured on one clock; ``ts_event_ns`` is the venue's time.
    """

    message_id: str
    ts_created_ns: int
    symbol: str
    mark: Decimal = attrs.field(validator=positive_decimal)
    source: MarkSource
    ts_event_ns: int
    ts_received_ns: int


class PendingMark(NamedTuple):
    """A mark offered through a coalescer, before it becomes a ``MarkObserved``.

    Building a message per websocket frame is wasted work when the next frame replaces it;
    the feed thread offers these plain values and the mark window builds one message per
    symbol per wake-up.
    """

    mark: Decimal
    source: MarkSource
    ts_event_ns: int
    ts_received_ns: int


@attrs.frozen(kw_only=True)
class SampleMarks:
    """The mark window's own cycle timer: sample every symbol now."""


@attrs.frozen(kw_only=True)
class PollQuotes:
    """The quote poller's own timer: poll now unless the feed is healthy."""


@attrs.frozen(kw_only=True)
class MarkSample:
    """One symbol in one sampling cycle."""

    symbol: str
    mark: Decimal | None
    """The latest mark, or None if none was ever observed."""
    source: MarkSource | None
    age_s: float | None
    """Seconds since the latest mark was received (None if never)."""
    stale: bool
    """No fresh mark: none yet, or older than ``market_data.stale_after_s``; not appended."""
    window: tuple[Decimal, ...]
    """The sampled marks, oldest first, trimmed to max(short_ma, long_ma) + 5."""


@attrs.frozen(kw_only=True)
class MarksSampled:
    """Published each cycle to subscribers (strategy, risk): every configured symbol."""

    message_id: str
    ts_created_ns: int
    cycle: int
    samples: tuple[MarkSample, ...]

    def sample(self, symbol: str) -> MarkSample:
        """The sample for ``symbol``; KeyError naming the sampled symbols if absent."""
        for sample in self.samples:
            if sample.symbol == symbol:
                return sample
        raise KeyError(f"{symbol!r} was not sampled; sampled: {[s.symbol for s in self.samples]}")


class FeedState(enum.StrEnum):
    """The websocket feed's health, as the streamer reports it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    SUBSCRIBED = "subscribed"
    """Subscribed and receiving: the feed is healthy."""
    GAP_DETECTED = "gap_detected"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    DISABLED = "disabled"
    """Streaming is off in the configuration; the poller is the primary source."""
    STOPPED = "stopped"

    @property
    def healthy(self) -> bool:
        return self is FeedState.SUBSCRIBED


@attrs.frozen(kw_only=True)
class FeedStatusChanged:
    """The feed moved to ``state``; ``attempt`` and ``delay_s`` describe a reconnect."""

    message_id: str
    ts_created_ns: int
    state: FeedState
    detail: str = ""
    attempt: int | None = None
    delay_s: float | None = None
