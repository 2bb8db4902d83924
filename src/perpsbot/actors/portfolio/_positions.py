"""The portfolio's books: every symbol's :class:`~perpsbot._position.Position` from fills,
the venue's funding and its reconciliations (spot and CFM futures), equity and the day's PnL.

The PnL that counts against equity and the daily loss limit is :meth:`Position.net_pnl`:
realized, minus fees, plus funding, plus unrealized at the latest mark.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from perpsbot._position import Position
from perpsbot.actors.portfolio._funding import FundingReading, funding_moved
from perpsbot.messages import AccountReconciled, OrderFilled, PositionView

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class Correction:
    """The bot's position differed from the venue's and was set to the venue's."""

    position: Position
    description: str


class PositionBook:
    """Every symbol's position and latest mark; all figures in USD."""

    def __init__(self) -> None:
        self._positions: dict[str, Position] = {}
        self._marks: dict[str, Decimal] = {}
        self._readings: dict[str, FundingReading] = {}  # the venue's accrued funding, last read

    def position(self, symbol: str) -> Position:
        return self._positions.get(symbol) or Position(symbol=symbol)

    def mark(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    def apply_fill(self, fill: OrderFilled) -> Position:
        position = self.position(fill.symbol).with_fill(
            side=fill.side,
            price=fill.price,
            size=fill.size,
            fee=fill.fee,
            contract_size=fill.contract_size,
        )
        self._positions[fill.symbol] = position
        if not position.quantity and fill.symbol in self._readings:
            # Closed: the venue took its accrued funding into the cash, counted already.
            self._readings[fill.symbol] = FundingReading(accrued=_ZERO, read_ns=fill.ts_event_ns)
        return position

    def book_funding(self, account: AccountReconciled) -> list[tuple[str, Decimal, Decimal]]:
        """Book what the venue's accrued funding on each futures position moved by since the
        last reading (see :mod:`perpsbot.actors.portfolio._funding`), except on the symbols the read
        may be older than the book for (``account.unsettled``). Returns each symbol whose
        funding moved, with the amount and the venue's figure."""
        moved: list[tuple[str, Decimal, Decimal]] = []
        read_ns = account.ts_created_ns
        for venue in account.positions:
            if venue.symbol in account.unsettled:
                continue
            if not venue.quantity:  # flat: what accrued went into the cash at the close
                self._readings[venue.symbol] = FundingReading(accrued=_ZERO, read_ns=read_ns)
                continue
            if venue.accrued_funding is None:
                continue
            amount = funding_moved(self._readings.get(venue.symbol), venue.accrued_funding, read_ns)
            self._readings[venue.symbol] = FundingReading(
                accrued=venue.accrued_funding, read_ns=read_ns
            )
            if amount:
                position = self.position(venue.symbol)
                self._positions[venue.symbol] = attrs.evolve(
                    position, funding=position.funding + amount
                )
                moved.append((venue.symbol, amount, venue.accrued_funding))
        return moved

    def restore_funding(self, view: PositionView) -> None:
        """Replay a journaled funding booking: the position's funding so far."""
        self._positions[view.symbol] = attrs.evolve(
            self.position(view.symbol), funding=view.funding
        )

    def marks(self) -> dict[str, Decimal]:
        return dict(self._marks)

    def set_mark(self, symbol: str, mark: Decimal) -> None:
        """Take ``symbol``'s latest mark; a position whose entry is unknown (adopted from the
        venue without one) takes its first mark as its basis, so later moves count."""
        self._marks[symbol] = mark
        position = self._positions.get(symbol)
        if position is not None and position.quantity and position.average_entry is None:
            self._positions[symbol] = attrs.evolve(position, average_entry=mark)

    def reconcile(self, account: AccountReconciled) -> list[Correction]:
        """Correct the book to the venue's account, except the symbols the read may be older
        than the book for (``account.unsettled``).

        A future takes the venue's quantity and average entry. A spot position is the bot's
        own fills, bounded by the wallet (someone sold coins, or spot went below zero): it
        keeps its cost basis when it shrinks.
        """
        corrections = []
        for venue in account.positions:
            ours = self.position(venue.symbol)
            if venue.symbol in account.unsettled or venue.quantity == ours.quantity:
                continue
            corrected = attrs.evolve(
                ours,
                quantity=venue.quantity,
                average_entry=venue.average_entry_price if venue.quantity else None,
                contract_size=venue.contract_size,
                entry_fill_price=None,
            )
            corrections.append(self._corrected(corrected, ours, "the venue's"))
        for wallet in account.spot_wallets:
            ours = self.position(wallet.symbol)
            quantity = min(max(ours.quantity, _ZERO), wallet.quantity)
            if wallet.symbol in account.unsettled or quantity == ours.quantity:
                continue
            corrected = attrs.evolve(ours, quantity=quantity)
            if not quantity:
                corrected = attrs.evolve(corrected, average_entry=None, entry_fill_price=None)
            corrections.append(self._corrected(corrected, ours, "what the wallet holds"))
        return corrections

    def _corrected(self, corrected: Position, ours: Position, whose: str) -> Correction:
        self._positions[corrected.symbol] = corrected
        return Correction(
            position=corrected,
            description=f"{corrected.symbol}: quantity {ours.quantity} corrected to {whose}"
            f" {corrected.quantity} (average entry {corrected.average_entry})",
        )

    def correct(self, view: PositionView) -> None:
        """Replay a journaled correction: its quantity, and its average entry when it gave
        one (else the replayed one, if the position kept its side)."""
        ours = self.position(view.symbol)
        same_side = view.quantity * ours.quantity > 0
        entry = view.average_entry_price
        if entry is None and same_side:
            entry = ours.average_entry
        self._positions[view.symbol] = attrs.evolve(
            ours,
            quantity=view.quantity,
            average_entry=entry if view.quantity else None,
            contract_size=view.contract_size,
            entry_fill_price=ours.entry_fill_price if same_side else None,
        )

    def positions(self) -> list[Position]:
        return [self._positions[s] for s in sorted(self._positions)]

    def views(self) -> tuple[PositionView, ...]:
        return tuple(p.view(self._marks.get(p.symbol)) for p in self.positions())

    def net_pnl(self) -> Decimal:
        return sum((p.net_pnl(self._marks.get(p.symbol)) for p in self.positions()), _ZERO)

    def realized_net(self) -> Decimal:
        return sum((p.realized - p.fees + p.funding for p in self.positions()), _ZERO)

    def unrealized(self) -> Decimal:
        return sum((p.unrealized(self._marks.get(p.symbol)) for p in self.positions()), _ZERO)

    def exposure(self, *, excluding: str | None = None) -> Decimal:
        """Total absolute notional at the latest marks (``excluding`` one symbol)."""
        return sum(
            (
                p.notional(self._marks.get(p.symbol))
                for p in self.positions()
                if p.symbol != excluding
            ),
            _ZERO,
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "positions": dict(self._positions),
            "marks": dict(self._marks),
            "readings": dict(self._readings),
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        self._positions = dict(snapshot["positions"])
        self._marks = dict(snapshot["marks"])
        self._readings = dict(snapshot["readings"])


@attrs.frozen(kw_only=True)
class Baselines:
    """Equity and the UTC day's PnL, both measured as changes of the book's net PnL.

    Equity is the venue's figure at the last reconciliation plus what the book's net PnL
    (realized, fees, funding, unrealized) changed since. The day's PnL is the change since the
    UTC day began (or since the bot started, if later, plus what a previous process counted
    that day). Some steps change the book's PnL without any trade or price move: a
    reconciliation correcting a position to the venue's, the first mark seen for an adopted
    position. Those count neither as equity change (the venue's figure already holds them) nor
    as the day's PnL: they :meth:`shifted` both baselines.
    """

    venue_equity: Decimal | None = None
    pnl_at_venue: Decimal = _ZERO
    day: date | None = None
    pnl_at_day_start: Decimal = _ZERO

    def equity(self, pnl: Decimal) -> Decimal | None:
        if self.venue_equity is None:
            return None
        return self.venue_equity + pnl - self.pnl_at_venue

    def daily_pnl(self, pnl: Decimal) -> Decimal:
        return pnl - self.pnl_at_day_start

    def on_day(self, day: date, pnl: Decimal) -> Baselines:
        """The baselines on ``day``: a new day starts counting from ``pnl``."""
        if day == self.day:
            return self
        return attrs.evolve(self, day=day, pnl_at_day_start=pnl)

    def carried(self, daily_pnl: Decimal) -> Baselines:
        """The day's PnL continues from ``daily_pnl`` (what a previous process counted)."""
        return attrs.evolve(self, pnl_at_day_start=self.pnl_at_day_start - daily_pnl)

    def shifted(self, step: Decimal) -> Baselines:
        """The book's PnL moved by ``step`` without a trade or a price move."""
        return attrs.evolve(
            self,
            pnl_at_venue=self.pnl_at_venue + step,
            pnl_at_day_start=self.pnl_at_day_start + step,
        )

    def reconciled(self, equity: Decimal | None, pnl: Decimal, *, step: Decimal) -> Baselines:
        """After a reconciliation whose corrections moved the book's PnL by ``step`` to
        ``pnl``: equity restarts from the venue's figure (if it gave one)."""
        shifted = self.shifted(step)
        if equity is None:
            return shifted
        return attrs.evolve(shifted, venue_equity=equity, pnl_at_venue=pnl)
