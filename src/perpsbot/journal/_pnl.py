"""Realized PnL, fees and funding from the journal's fills, by average cost."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from perpsbot.messages import FundingPaid, OrderFilled

__all__ = ["PnlLine", "PnlReport", "pnl_from"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class PnlLine:
    """One symbol's (or the total's) realized PnL, fees paid and funding received, in USD."""

    symbol: str
    realized: Decimal
    fees: Decimal
    funding: Decimal
    fills: int

    @property
    def net(self) -> Decimal:
        """Realized, less fees, plus funding."""
        return self.realized - self.fees + self.funding


@attrs.frozen(kw_only=True)
class PnlReport:
    """PnL by symbol (sorted) and in total."""

    lines: tuple[PnlLine, ...]
    total: PnlLine


@attrs.define
class _Book:
    quantity: Decimal = _ZERO  # signed; contracts for futures
    entry: Decimal = _ZERO  # average entry price of ``quantity``
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    funding: Decimal = _ZERO
    fills: int = 0

    def apply(self, fill: OrderFilled, counted: bool) -> None:
        signed = fill.size * fill.side.sign
        held = self.quantity
        if held and (held > 0) != (signed > 0):  # reduces (and may flip) the position
            closed = min(abs(signed), abs(held))
            gain = closed * (fill.price - self.entry) * fill.contract_size
            if counted:
                self.realized += gain if held > 0 else -gain
            self.quantity = held + signed
            if self.quantity and (self.quantity > 0) != (held > 0):
                self.entry = fill.price  # flipped: the rest opened at this price
            elif not self.quantity:
                self.entry = _ZERO
        else:
            total = abs(held) + abs(signed)
            self.entry = (self.entry * abs(held) + fill.price * abs(signed)) / total
            self.quantity = held + signed
        if counted:
            self.fees += fill.fee
            self.fills += 1


def pnl_from(
    fills: Iterable[OrderFilled], funding: Iterable[FundingPaid], *, since_ns: int | None = None
) -> PnlReport:
    """PnL of ``fills`` (every fill of the symbols, oldest first: positions need them all) and
    ``funding``, counting only what happened at or after ``since_ns`` (``ts_event_ns``)."""
    books: dict[str, _Book] = {}
    for fill in fills:
        counted = since_ns is None or fill.ts_event_ns >= since_ns
        books.setdefault(fill.symbol, _Book()).apply(fill, counted)
    for payment in funding:
        if since_ns is None or payment.ts_event_ns >= since_ns:
            books.setdefault(payment.symbol, _Book()).funding += payment.amount
    lines = tuple(
        PnlLine(
            symbol=symbol,
            realized=book.realized,
            fees=book.fees,
            funding=book.funding,
            fills=book.fills,
        )
        for symbol, book in sorted(books.items())
    )
    total = PnlLine(
        symbol="TOTAL",
        realized=sum((line.realized for line in lines), _ZERO),
        fees=sum((line.fees for line in lines), _ZERO),
        funding=sum((line.funding for line in lines), _ZERO),
        fills=sum(line.fills for line in lines),
    )
    return PnlReport(lines=lines, total=total)
