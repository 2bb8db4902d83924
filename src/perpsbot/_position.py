"""One symbol's position by average cost, moved by fills: what the portfolio's books hold
(``actors/_positions``) and what the journal's PnL report replays (``journal/_pnl``).

Quantities are signed (negative for a short), in base units for spot and contracts for
futures; ``contract_size`` turns contracts into base units, so a position's notional is
``|quantity| * contract_size * mark`` USD. Realized PnL is gross of fees.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages import PositionView, Side

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class Position:
    symbol: str
    quantity: Decimal = _ZERO
    average_entry: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    funding: Decimal = _ZERO
    entry_fill_price: Decimal | None = None
    """The price of the fill that opened the current position (None when flat or adopted)."""

    def with_fill(
        self, *, side: Side, price: Decimal, size: Decimal, fee: Decimal, contract_size: Decimal
    ) -> Position:
        """The position after one fill: adds average the entry, reductions realize PnL, and a
        fill larger than the position flips it through zero at the fill's price. Reducing a
        position whose entry is unknown (a spot position reconciled from the wallet) realizes
        nothing; adding to it leaves the average unknown (never averaged as 0)."""
        signed = size * side.sign
        quantity = self.quantity
        fees = self.fees + fee
        if not quantity or (quantity > 0) == (signed > 0):
            held = abs(quantity)
            if quantity and self.average_entry is None:
                average = None  # what the held part cost is unknown: so is the average
            else:
                average = (held * (self.average_entry or _ZERO) + size * price) / (held + size)
            return attrs.evolve(
                self,
                quantity=quantity + signed,
                average_entry=average,
                contract_size=contract_size,
                fees=fees,
                entry_fill_price=self.entry_fill_price if quantity else price,
            )
        closed = min(abs(quantity), size)
        direction = 1 if quantity > 0 else -1
        realized = self.realized
        if self.average_entry is not None:  # else adopted without one: what it made is unknown
            realized += closed * contract_size * (price - self.average_entry) * direction
        left = quantity + signed
        reduced = attrs.evolve(
            self, quantity=left, contract_size=contract_size, realized=realized, fees=fees
        )
        if not left:
            return attrs.evolve(reduced, average_entry=None, entry_fill_price=None)
        if (left > 0) != (quantity > 0):  # flipped: the rest opened at this fill's price
            return attrs.evolve(reduced, average_entry=price, entry_fill_price=price)
        return reduced

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or not self.quantity or self.average_entry is None:
            return _ZERO
        return self.quantity * self.contract_size * (mark - self.average_entry)

    def notional(self, mark: Decimal | None) -> Decimal:
        return _ZERO if mark is None else abs(self.quantity) * self.contract_size * mark

    def net_pnl(self, mark: Decimal | None) -> Decimal:
        return self.realized - self.fees + self.funding + self.unrealized(mark)

    def view(self, mark: Decimal | None) -> PositionView:
        return PositionView(
            symbol=self.symbol,
            quantity=self.quantity,
            average_entry_price=self.average_entry,
            contract_size=self.contract_size,
            mark=mark,
            realized_pnl=self.realized,
            unrealized_pnl=self.unrealized(mark),
            fees=self.fees,
            funding=self.funding,
        )
