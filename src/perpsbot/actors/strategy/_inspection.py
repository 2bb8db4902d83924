"""What the strategy actor shows when inspected (``system.state("bot/strategy")``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from perpsbot.messages import Signal, SymbolSignal, TradingState

__all__ = ["StrategyState"]


@attrs.frozen(kw_only=True)
class StrategyState:
    """The strategy's inspection reply: what it knows and what it last decided."""

    state: TradingState
    """Risk's trading state as last told (HALTED until told)."""
    equity: Decimal | None
    positions: Mapping[str, Decimal]
    """Each symbol's quantity (a read-only copy of the portfolio's)."""
    stops: Mapping[str, Decimal]
    """Each position's trailing stop price."""
    reversals: Mapping[str, Signal]
    """The signal a symbol's position is waiting to see reverse."""
    pending: Mapping[str, str]
    """The intent id of each symbol's order in flight."""
    signals: tuple[SymbolSignal, ...]
    """The last cycle's signal and action for each symbol."""
