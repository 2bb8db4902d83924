"""What risk remembers about orders in flight and fills already counted."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.messages import OrderIntent, OrderUpdated, Side

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class _Open:
    symbol: str
    side: Side
    remaining: Decimal
    """What it may still move the position by beyond what is booked (its unsettled size)."""
    price: Decimal | None
    """The price risk checked it at (None for an order risk did not let through itself)."""
    valid_until_ns: int
    reached_executor: bool = False


class OpenOrders:
    """Orders that may still move a position beyond what is booked, by intent id.

    An order leaves once the executor reports it settled (terminal and every filled unit
    booked) or denies it; one the executor never reported on leaves once its intent expired
    (it can no longer be submitted). Until then its unbooked rest counts.
    """

    def __init__(self) -> None:
        self._orders: dict[str, _Open] = {}

    def placed(self, intent: OrderIntent, price: Decimal) -> None:
        self._orders[intent.intent_id] = _Open(
            symbol=intent.symbol,
            side=intent.side,
            remaining=intent.size,
            price=price,
            valid_until_ns=intent.valid_until_ns,
        )

    def update(self, message: OrderUpdated) -> None:
        if message.settled:
            self._orders.pop(message.intent_id, None)
            return
        previous = self._orders.get(message.intent_id)
        self._orders[message.intent_id] = _Open(
            symbol=message.symbol,
            side=message.side,
            remaining=message.unsettled_size,
            price=message.limit_price if previous is None else previous.price,
            valid_until_ns=0 if previous is None else previous.valid_until_ns,
            reached_executor=True,
        )

    def remove(self, intent_id: str) -> None:
        self._orders.pop(intent_id, None)

    def expire(self, now_ns: int) -> None:
        for intent_id, order in list(self._orders.items()):
            if not order.reached_executor and now_ns > order.valid_until_ns:
                del self._orders[intent_id]

    def sizes(self, symbol: str) -> tuple[Decimal, Decimal]:
        """What open orders for ``symbol`` may still buy and sell."""
        buy = sell = _ZERO
        for order in self._orders.values():
            if order.symbol == symbol:
                if order.side is Side.BUY:
                    buy += order.remaining
                else:
                    sell += order.remaining
        return buy, sell

    def symbols(self) -> set[str]:
        return {order.symbol for order in self._orders.values()}

    def price(self, symbol: str) -> Decimal | None:
        """The highest price an open order of ``symbol`` was checked at."""
        prices = [o.price for o in self._orders.values() if o.symbol == symbol and o.price]
        return max(prices) if prices else None

    def describe(self) -> dict[str, str]:
        return {i: f"{o.side} {o.remaining} {o.symbol}" for i, o in self._orders.items()}

    def snapshot(self) -> dict[str, Any]:
        return dict(self._orders)

    def restore(self, snapshot: dict[str, Any]) -> None:
        self._orders = dict(snapshot)


class RecentFills:
    """The ids of the last ``capacity`` fills counted, so a fill told twice counts once.

    It also knows how far back it is sure: :meth:`remembers` is False for a fill that traded
    no later than one it forgot (a fill id evicted to bound the memory), which may have been
    counted already. Reconciliation's sweep reads 30 hours of fills at most; the capacity
    holds many more than that of the bot's fills, so the sweep's fills are within it in
    practice, and one that is not is left uncounted rather than counted twice.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._order: deque[tuple[str, int | None]] = deque(maxlen=capacity)
        self._ids: set[str] = set()
        self._forgotten_ns: int | None = None  # the latest trade time of a forgotten fill

    def first_time(self, fill_id: str, ts_event_ns: int | None = None) -> bool:
        """True (and remembered) the first time ``fill_id`` is seen."""
        if fill_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            forgotten, forgotten_ns = self._order[0]
            self._ids.discard(forgotten)
            if forgotten_ns is not None:
                self._forgotten_ns = max(self._forgotten_ns or forgotten_ns, forgotten_ns)
        self._order.append((fill_id, ts_event_ns))
        self._ids.add(fill_id)
        return True

    def __contains__(self, fill_id: object) -> bool:
        return fill_id in self._ids

    def remembers(self, ts_event_ns: int) -> bool:
        """True if every fill counted that traded at ``ts_event_ns`` or later is remembered."""
        return self._forgotten_ns is None or ts_event_ns > self._forgotten_ns

    def snapshot(self) -> tuple[tuple[tuple[str, int | None], ...], int | None]:
        return tuple(self._order), self._forgotten_ns

    def restore(self, snapshot: tuple[tuple[tuple[str, int | None], ...], int | None]) -> None:
        fills, self._forgotten_ns = snapshot
        for fill_id, ts_event_ns in fills:
            self.first_time(fill_id, ts_event_ns)
