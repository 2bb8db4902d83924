"""Portfolio messages: the book's valuation, and reading the book back from the journal.

The portfolio actor owns positions, PnL and equity. It publishes each position change
(``PositionChanged``, in :mod:`~perpsbot.messages.risk`) and, after each change and each
sampling cycle, the whole book's valuation (:class:`PortfolioValued`). At a cold start it asks
the journal for the book (:class:`ReadBook`), answered by :class:`BookRead`.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages._base import ReplyTo
from perpsbot.messages.orders import OrderFilled
from perpsbot.messages.risk import PositionChanged, PositionView, RiskSnapshot

__all__ = ["BookRead", "PortfolioValued", "ReadBook"]


@attrs.frozen(kw_only=True)
class PortfolioValued:
    """The book at the latest marks: what risk checks orders against and prints.

    ``cycle`` is the sampling cycle that valued it (None after a fill or a correction).
    ``equity`` is None until the venue's balances were read once.
    """

    message_id: str
    ts_created_ns: int
    cycle: int | None
    equity: Decimal | None
    realized_pnl: Decimal
    """Net of fees, plus funding."""
    unrealized_pnl: Decimal
    daily_pnl: Decimal
    """Realized plus unrealized since the start of the UTC day."""
    exposure: Decimal
    positions: tuple[PositionView, ...]
    correlation_id: str | None = None
    """The ``AccountReconciled`` this valuation took in (None for any other cause): risk
    trades again after a reconciliation only once the book holds it."""


@attrs.frozen(kw_only=True)
class ReadBook:
    """Commit everything told before this message, then tell ``reply_to`` :class:`BookRead`
    with what the book is rebuilt from."""

    message_id: str
    ts_created_ns: int
    reply_to: ReplyTo = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class BookRead:
    """The journal's answer to :class:`ReadBook`: every fill and every reconciliation
    correction, in the order they were journaled (``events``), and the last risk snapshot
    (for the day's PnL so far); ``error`` says why the journal could not be read."""

    message_id: str
    ts_created_ns: int
    correlation_id: str
    events: tuple[OrderFilled | PositionChanged, ...] = ()
    last_snapshot: RiskSnapshot | None = None
    error: str = ""
