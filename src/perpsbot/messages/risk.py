"""Risk messages: the trading state, positions and PnL, and the operator's commands.

The risk actor owns the trading state (ACTIVE, REDUCING, HALTED), positions, exposure, PnL
and mark freshness, and publishes changes to them. The operator's ``Halt``, ``ReduceOnly`` and
``Resume`` travel on the priority lane of the risk actor's mailbox, ahead of queued intents.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

__all__ = [
    "FUNDING_CAUSE",
    "RECONCILED_CAUSE",
    "BookedFill",
    "CheckRisk",
    "Halt",
    "PositionChanged",
    "PositionView",
    "ReduceOnly",
    "Resume",
    "RiskSnapshot",
    "TradingState",
    "TradingStateChanged",
]


class TradingState(enum.StrEnum):
    """What the bot may do.

    - ``ACTIVE``: everything risk allows.
    - ``REDUCING``: only orders that shrink a position (and cancels).
    - ``HALTED``: nothing but cancels, until an operator resumes.
    """

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@attrs.frozen(kw_only=True)
class TradingStateChanged:
    """The trading state changed; ``reasons`` lists every condition holding it (empty when
    ACTIVE), ``reason`` is the change that caused this transition."""

    message_id: str
    ts_created_ns: int
    state: TradingState
    previous: TradingState | None
    reason: str
    reasons: tuple[str, ...] = ()
    stops_everything: bool = False
    """HALTED by a person's decision (an operator's halt, ``risk.kill_switch``), not by a
    transient fail-closed hold (the journal still being read): orders never sent are then
    cancelled instead of held back."""
    starting: bool = False
    """Held only for what every start waits for, before its first reconciliation with the
    venue succeeded (the journal's operator state, the book, actors starting, first marks):
    people read "holding until reconciliation", not a halt."""


@attrs.frozen(kw_only=True)
class Halt:
    """Operator command: stop trading (cancels only) until :class:`Resume`; survives restarts."""

    message_id: str
    ts_created_ns: int
    reason: str
    operator: str


@attrs.frozen(kw_only=True)
class ReduceOnly:
    """Operator command: only reductions until :class:`Resume`; survives restarts."""

    message_id: str
    ts_created_ns: int
    reason: str
    operator: str


@attrs.frozen(kw_only=True)
class Resume:
    """Operator command: lift the operator's halt or reduce-only (automatic conditions such as
    stale marks or a pending reconciliation still hold trading back until they clear)."""

    message_id: str
    ts_created_ns: int
    reason: str
    operator: str


@attrs.frozen(kw_only=True)
class PositionView:
    """One symbol's position as risk accounts it.

    ``quantity`` is signed (negative for a short) in base units for spot and contracts for
    futures; ``contract_size`` converts contracts to base units (1 for spot). Money is in USD.
    """

    symbol: str
    quantity: Decimal
    average_entry_price: Decimal | None
    contract_size: Decimal
    mark: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    funding: Decimal

    @property
    def notional(self) -> Decimal:
        """Absolute notional at the mark (0 without a mark or a position)."""
        if self.mark is None:
            return Decimal(0)
        return abs(self.quantity) * self.contract_size * self.mark


#: How the cause of a :class:`PositionChanged` that the venue's reconciliation corrected
#: begins; the journal's book is rebuilt from the fills, these corrections and the funding.
RECONCILED_CAUSE = "reconciled"
#: How the cause of a :class:`PositionChanged` that booked the venue's funding begins.
FUNDING_CAUSE = "funding"
#: How the cause of a :class:`PositionChanged` that booked fills found by reconciliation's
#: sweep begins (fills, not a correction: the journal's fills rebuild it).
SWEPT_CAUSE = "swept"


@attrs.frozen(kw_only=True)
class BookedFill:
    """One fill the portfolio booked into a position: which order's, and how much."""

    fill_id: str
    intent_id: str
    client_order_id: str
    size: Decimal


@attrs.frozen(kw_only=True)
class PositionChanged:
    """A position changed (a fill, funding the venue showed, or reconciliation with the venue);
    published by the portfolio, the only owner of positions.

    ``entry_fill_price`` is the price of the fill that opened the position (None if the
    position was adopted from the venue); the strategy seeds its trailing stop there.
    ``booked`` lists the fills this change booked: the executor learns from it that an
    order's fills are in the position, and only then settles the order.
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str | None
    position: PositionView
    cause: str
    entry_fill_price: Decimal | None = None
    booked: tuple[BookedFill, ...] = ()

    @property
    def is_correction(self) -> bool:
        """True if the venue's reconciliation set this position (no fill moved it)."""
        return self.cause.startswith(RECONCILED_CAUSE)

    @property
    def is_funding(self) -> bool:
        """True if this change booked funding the venue showed (``position.funding`` is the
        position's funding since it was first booked, this change included)."""
        return self.cause.startswith(FUNDING_CAUSE)


@attrs.frozen(kw_only=True)
class RiskSnapshot:
    """Published by risk once per sampling cycle: the figures the operator's summary shows."""

    message_id: str
    ts_created_ns: int
    cycle: int
    state: TradingState
    reasons: tuple[str, ...]
    equity: Decimal | None
    """USD; None until the venue's balances were read once."""
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    daily_pnl: Decimal
    """Realized plus unrealized since the start of the UTC day."""
    exposure: Decimal
    positions: tuple[PositionView, ...]
    starting: bool = False
    """As :attr:`TradingStateChanged.starting`: held only for what every start waits for."""
    at_stop: bool = False
    """Made as risk stopped (the process stopping, or risk restarting): the journal keeps it
    whatever ``journal.risk_snapshot_interval_s``, so the next start's day continues from the
    figures at the stop."""


@attrs.frozen(kw_only=True)
class CheckRisk:
    """Risk's own timer: re-check what ages without any message (mark age, the UTC day)."""
