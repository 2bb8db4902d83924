"""What the strategy publishes besides its intents: its reading of each sample, for people."""

from __future__ import annotations

import enum

import attrs

__all__ = ["Signal", "SignalsEvaluated", "SymbolSignal"]


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
