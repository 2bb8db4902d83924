"""What the journal's reader answers beyond the messages it stores: an intent as recorded,
with its order's latest state, and a trade (one order from intent to fills)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages import OrderFilled, OrderIntent, OrderUpdated

__all__ = ["RecordedIntent", "Trade"]


@attrs.frozen(kw_only=True)
class RecordedIntent:
    """An intent as the journal recorded it (write-ahead), with its order's latest state."""

    intent: OrderIntent
    client_order_id: str
    ts_recorded_ns: int
    """When the executor asked to record it (its ``RecordIntent``)."""
    order: OrderUpdated | None
    """The order's latest transition; None if none was journaled (e.g. a crash before)."""

    @property
    def finished(self) -> bool:
        """True once its order reached a terminal state."""
        return self.order is not None and self.order.status.terminal


@attrs.frozen(kw_only=True)
class Trade:
    """One order from intent to fills. ``intent`` is None for an order adopted from the venue."""

    client_order_id: str
    intent: OrderIntent | None
    order: OrderUpdated | None
    fills: tuple[OrderFilled, ...]

    @property
    def filled_size(self) -> Decimal:
        return sum((f.size for f in self.fills), Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))

    @property
    def average_price(self) -> Decimal | None:
        size = self.filled_size
        return sum((f.price * f.size for f in self.fills), Decimal(0)) / size if size else None
