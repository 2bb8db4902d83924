"""The journal's fills and funding replayed in time against the marks: the equity curve, the
round trips and the time spent in a position.

Positions move by :meth:`perpsbot._position.Position.with_fill` (average cost, the portfolio's
own arithmetic) and funding by what :func:`perpsbot.journal.funding_moves` says the portfolio
booked; each symbol's PnL at a mark is :meth:`~perpsbot._position.Position.net_pnl` (realized,
less fees, plus funding, plus unrealized at the mark).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot._position import Position
from perpsbot.journal import funding_moves
from perpsbot.messages import OrderFilled, PositionChanged

__all__ = ["EquityPoint", "Replay", "RoundTrip", "replay"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class EquityPoint:
    """Equity at one mark time: in total and each symbol's PnL so far (net, unrealized in)."""

    ts_ns: int
    equity: Decimal
    pnl_by_symbol: Mapping[str, Decimal]


@attrs.frozen(kw_only=True)
class RoundTrip:
    """A position opened from flat and closed back to flat (a fill through zero closes one and
    opens the next). ``gross`` is what it realized (average cost, before fees); ``fees`` are
    its fills' fees (a fill through zero's fee split by size between the two); ``funding`` is
    what was booked while it was open. ``closed_ns`` is None while it is still open."""

    symbol: str
    long: bool
    opened_ns: int
    closed_ns: int | None
    gross: Decimal
    fees: Decimal
    funding: Decimal
    fills: int

    @property
    def net(self) -> Decimal:
        return self.gross - self.fees + self.funding

    @property
    def won(self) -> bool:
        """A closed round trip that made money after its fees and funding."""
        return self.closed_ns is not None and self.net > 0


@attrs.frozen(kw_only=True)
class Replay:
    curve: tuple[EquityPoint, ...]
    round_trips: tuple[RoundTrip, ...]
    """Every round trip (closed and the ones still open at the end), by opening time."""
    final_positions: Mapping[str, Position]


@attrs.define
class _Symbol:
    position: Position
    trip: RoundTrip | None = None
    trips: list[RoundTrip] = attrs.field(factory=list)

    def fill(self, fill: OrderFilled) -> None:
        before = self.position
        after = before.with_fill(
            side=fill.side,
            price=fill.price,
            size=fill.size,
            fee=fill.fee,
            contract_size=fill.contract_size,
        )
        self.position = after
        realized = after.realized - before.realized
        if not before.quantity:
            self._open(fill, fill.fee, after.quantity > 0)
            return
        trip = self.trip
        assert trip is not None  # not flat before: a trip is open
        if after.quantity and (after.quantity > 0) == (before.quantity > 0):  # added or reduced
            self.trip = attrs.evolve(
                trip, gross=trip.gross + realized, fees=trip.fees + fill.fee, fills=trip.fills + 1
            )
            return
        closing_fee = fill.fee * min(abs(before.quantity), fill.size) / fill.size
        self.trips.append(
            attrs.evolve(
                trip,
                closed_ns=fill.ts_event_ns,
                gross=trip.gross + realized,
                fees=trip.fees + closing_fee,
                fills=trip.fills + 1,
            )
        )
        self.trip = None
        if after.quantity:  # through zero: the rest opens the next trip
            self._open(fill, fill.fee - closing_fee, after.quantity > 0)

    def fund(self, moved: Decimal) -> None:
        self.position = attrs.evolve(self.position, funding=self.position.funding + moved)
        if self.trip is not None:
            self.trip = attrs.evolve(self.trip, funding=self.trip.funding + moved)

    def _open(self, fill: OrderFilled, fee: Decimal, long: bool) -> None:
        self.trip = RoundTrip(
            symbol=fill.symbol,
            long=long,
            opened_ns=fill.ts_event_ns,
            closed_ns=None,
            gross=_ZERO,
            fees=fee,
            funding=_ZERO,
            fills=1,
        )


def replay(
    fills: Iterable[OrderFilled],
    positions: Iterable[PositionChanged],
    marks_ns: Mapping[str, Sequence[tuple[int, Decimal]]],
    *,
    starting_equity: Decimal,
) -> Replay:
    """Replays ``fills`` (by venue time) and the funding in ``positions`` (by when it was
    booked), each in journal order, and samples equity at every time any symbol has a mark
    (what happened at a mark's time counts in it; a symbol with no mark yet counts no
    unrealized PnL)."""
    events: list[tuple[int, int, OrderFilled | Decimal, str]] = [
        (fill.ts_event_ns, n, fill, fill.symbol) for n, fill in enumerate(fills)
    ]
    events += [
        (change.ts_created_ns, len(events) + n, moved, change.position.symbol)
        for n, (change, moved) in enumerate(funding_moves(positions))
    ]
    events.sort(key=lambda event: (event[0], event[1]))
    symbols = {event[3] for event in events} | set(marks_ns)
    books = {symbol: _Symbol(Position(symbol=symbol)) for symbol in sorted(symbols)}
    ticks = sorted(
        ((ts, symbol, mark) for symbol, ms in marks_ns.items() for ts, mark in ms),
        key=lambda tick: (tick[0], tick[1]),
    )  # stable: of one symbol's marks at one time, the last given counts
    last_mark: dict[str, Decimal] = {}
    curve: list[EquityPoint] = []
    next_event = 0
    for n, (ts, symbol, mark) in enumerate(ticks):
        while next_event < len(events) and events[next_event][0] <= ts:
            _, _, what, event_symbol = events[next_event]
            book = books[event_symbol]
            if isinstance(what, OrderFilled):
                book.fill(what)
            else:
                book.fund(what)
            next_event += 1
        last_mark[symbol] = mark
        if n + 1 < len(ticks) and ticks[n + 1][0] == ts:
            continue  # another symbol's mark at the same time first
        pnl = {s: book.position.net_pnl(last_mark.get(s)) for s, book in books.items()}
        curve.append(
            EquityPoint(
                ts_ns=ts, equity=starting_equity + sum(pnl.values(), _ZERO), pnl_by_symbol=pnl
            )
        )
    for _, _, what, event_symbol in events[next_event:]:  # after the last mark: in the trips
        if isinstance(what, OrderFilled):
            books[event_symbol].fill(what)
        else:
            books[event_symbol].fund(what)
    trips = [trip for book in books.values() for trip in book.trips]
    trips += [book.trip for book in books.values() if book.trip is not None]
    return Replay(
        curve=tuple(curve),
        round_trips=tuple(sorted(trips, key=lambda trip: (trip.opened_ns, trip.symbol))),
        final_positions={symbol: book.position for symbol, book in books.items()},
    )
