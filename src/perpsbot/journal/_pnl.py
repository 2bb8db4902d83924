"""Realized PnL and fees from the journal's fills, by average cost (the same
:class:`~perpsbot._position.Position` arithmetic as the portfolio's books), and funding from the
positions the portfolio journaled (each carries the position's funding so far: what it moved
by is the funding the portfolio booked from the venue's figures then)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

import attrs

from perpsbot._position import Position
from perpsbot.messages import OrderFilled, PositionChanged

__all__ = ["PnlLine", "PnlReport", "funding_moves", "pnl_from"]

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
    """One symbol's position replayed from every fill, and what counts of it."""

    position: Position
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    funding: Decimal = _ZERO
    fills: int = 0

    def apply(self, fill: OrderFilled, counted: bool) -> None:
        before = self.position
        self.position = before.with_fill(
            side=fill.side,
            price=fill.price,
            size=fill.size,
            fee=fill.fee,
            contract_size=fill.contract_size,
        )
        if counted:
            self.realized += self.position.realized - before.realized
            self.fees += fill.fee
            self.fills += 1


def pnl_from(
    fills: Iterable[OrderFilled],
    positions: Iterable[PositionChanged],
    *,
    since_ns: int | None = None,
) -> PnlReport:
    """PnL of ``fills`` (every fill of the symbols, oldest first: positions need them all) and
    the funding ``positions`` (every journaled position of the symbols, oldest first) show,
    counting only what happened at or after ``since_ns`` (fills by ``ts_event_ns``, funding
    by when it was booked)."""
    books: dict[str, _Book] = {}
    for fill in fills:
        counted = since_ns is None or fill.ts_event_ns >= since_ns
        books.setdefault(fill.symbol, _Book(Position(symbol=fill.symbol))).apply(fill, counted)
    for change, moved in funding_moves(positions):
        if since_ns is None or change.ts_created_ns >= since_ns:
            symbol = change.position.symbol
            books.setdefault(symbol, _Book(Position(symbol=symbol))).funding += moved
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


def funding_moves(
    positions: Iterable[PositionChanged],
) -> Iterator[tuple[PositionChanged, Decimal]]:
    """Each of ``positions`` (every journaled position of the symbols, oldest first) whose
    funding moved, with what it moved by: the funding the portfolio booked then (USD, positive
    received). A position carries its symbol's funding so far, so the move is the difference
    from the symbol's previous one."""
    funding: dict[str, Decimal] = {}
    for change in positions:
        symbol, now = change.position.symbol, change.position.funding
        moved = now - funding.get(symbol, _ZERO)
        funding[symbol] = now
        if moved:
            yield change, moved
