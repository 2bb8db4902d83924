"""What the risk actor shows when inspected (``system.state("bot/risk")``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from perpsbot.messages import FeedState, TradingState

__all__ = ["RiskState"]


@attrs.frozen(kw_only=True)
class RiskState:
    """The risk actor's inspection reply: its trading state and its copy of the books."""

    state: TradingState
    reasons: tuple[str, ...]
    """Every hold on trading, most severe first (empty while ACTIVE)."""
    equity: Decimal | None
    """USD; None until the portfolio valued the account."""
    daily_pnl: Decimal
    exposure: Decimal
    """USD: the absolute notional of the positions and of the orders in flight."""
    positions: Mapping[str, Decimal]
    """Each symbol's quantity, as the portfolio last told it."""
    open_orders: Mapping[str, str]
    """Each order in flight by intent id: ``BUY 0.5 BTC-PERP``."""
    mark_age_s: Mapping[str, float | None]
    """Each configured symbol's mark age (None: no mark yet)."""
    feed: FeedState | None
    """The market feed's latest state (None: not told yet)."""
