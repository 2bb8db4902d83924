"""What the execution actors show when inspected: ``bot/executor`` and ``bot/user_feed``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from perpsbot.messages import OrderStatus, TradingState

__all__ = ["ExecutorState", "UserChannelStats", "UserFeedState"]


@attrs.frozen(kw_only=True)
class ExecutorState:
    """The executor's inspection reply: its orders, reconciliation and counters."""

    reconciled: bool
    """True once a reconciliation with the venue succeeded since the start."""
    reconciliations: int
    reconciliation_failures: int
    swept_fills: int
    sweep_lookups: int
    trading_state: TradingState | None
    """Risk's trading state as last told (None: not told yet)."""
    dry_run: bool
    user_feed_healthy: bool
    orders: Mapping[str, OrderStatus]
    """Each order the ledger holds by client order id, oldest first."""
    unsettled: Mapping[str, str]
    """Orders ended at the venue whose fills are not all booked: ``awaiting fills: 0 of 2
    booked``."""
    positions: Mapping[str, Decimal]
    """Each symbol's quantity (a read-only copy of the portfolio's)."""
    book_pending: str | None
    """Why orders wait for the portfolio's book, while they do."""
    held_for_book: tuple[str, ...]
    """The intent ids waiting for the book."""
    products: tuple[str, ...]
    impossible_transitions: int
    denials: int
    submitted: int
    polls: int
    polls_skipped_feed_healthy: int
    stale_updates: int
    venue_errors: int
    foreign_orders: int = 0
    """Orders that carry one of our client order ids, or our prefix under a label the journal
    never issued, but are not ours (left alone: a venue that does not deduplicate them)."""
    fills_streamed: int = 0
    """Fills learnt from the user channel (a venue whose channel carries them)."""


@attrs.frozen(kw_only=True)
class UserChannelStats:
    """The user channel's health and what went through it (this connection's)."""

    healthy: bool
    frames: int
    orders_reported: int
    times_unhealthy: int


@attrs.frozen(kw_only=True)
class UserFeedState:
    """The user feed actor's inspection reply."""

    running: bool
    symbols: tuple[str, ...]
    channel: UserChannelStats | None
    """None in a dry run (no channel)."""
