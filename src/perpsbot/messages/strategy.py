"""What the strategy publishes besides its intents: its reading of each sample, for people,
and where its trailing stops are, for the journal; and reading those stops back at a cold start
(:class:`ReadStops`, answered by :class:`StopsRead`)."""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from perpsbot.messages._base import ReplyTo

__all__ = ["ReadStops", "Signal", "SignalsEvaluated", "StopMoved", "StopsRead", "SymbolSignal"]


class Signal(enum.StrEnum):
    """The crossover's verdict on one sample."""

    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"
    WARMING_UP = "warming_up"
    """Fewer samples than the long window needs."""
    STALE = "stale"
    """The sample is stale: nothing is decided on it."""


@attrs.frozen(kw_only=True)
class SymbolSignal:
    """One symbol in one cycle: the signal and the resulting action (``hold``, ``buy``,
    ``sell``, ``close``) with its reason."""

    symbol: str
    signal: Signal
    action: str
    reason: str
    intent_id: str | None = None


@attrs.frozen(kw_only=True)
class SignalsEvaluated:
    """Published by the strategy after each ``MarksSampled`` it handled."""

    message_id: str
    ts_created_ns: int
    cycle: int
    signals: tuple[SymbolSignal, ...]


@attrs.frozen(kw_only=True)
class StopMoved:
    """A symbol's trailing stop was set, followed the mark, or ended (``peak`` None): the
    journal keeps the last of each symbol, so a new process trails from the same peak."""

    message_id: str
    ts_created_ns: int
    symbol: str
    long: bool
    peak: Decimal | None
    """The best mark since the entry (the entry fill's price at first); None: no stop."""
    average_entry: Decimal | None
    """The average entry of the position the stop is for (which position it is)."""


@attrs.frozen(kw_only=True)
class ReadStops:
    """Commit everything told before this message, then tell ``reply_to`` :class:`StopsRead`
    with each symbol's last :class:`StopMoved`."""

    message_id: str
    ts_created_ns: int
    reply_to: ReplyTo = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class StopsRead:
    """The journal's answer to :class:`ReadStops`: the last :class:`StopMoved` of every symbol
    whose stop had not ended; ``error`` says why the journal could not be read."""

    message_id: str
    ts_created_ns: int
    correlation_id: str
    stops: tuple[StopMoved, ...] = ()
    error: str = ""
