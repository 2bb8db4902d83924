"""What the portfolio actor shows when inspected (``system.state("bot/portfolio")``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

__all__ = ["PortfolioState"]


@attrs.frozen(kw_only=True)
class PortfolioState:
    """The portfolio's inspection reply: the positions, equity and PnL it owns."""

    ready: bool
    """True once it read its book from the journal."""
    equity: Decimal | None
    """USD; None until the venue's account was reconciled."""
    daily_pnl: Decimal
    exposure: Decimal
    """USD: the absolute notional of the positions."""
    positions: Mapping[str, Decimal]
    """Each symbol's quantity."""
    average_entry: Mapping[str, Decimal | None]
    """Each symbol's average entry price (None while flat)."""
    fills_booked: int
    waiting: int
    """Fills waiting for the book to be read."""
