"""The gateway's own records beside the engine: labels, request flags and retention windows.

Labels are not unique on this venue: two orders may carry the same one, and both are placed
(the venue does not deduplicate, docs/venues/global-derivatives.md 1.6). Each order still gets
a fresh engine client id, so the engine's own deduplication never applies here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from perpsbot.sim._orders import SimFill, SimOrder
from perpsbot.sim.gateway._views import GatewayOrder

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

#: Recent orders are listed for 30 minutes, older ones only with ``historical`` (1.8).
RECENT_ORDERS_NS = 30 * 60 * 10**9


class GatewayLedger:
    """The gateway's orders (engine order id -> label and flags) in placement order."""

    def __init__(self, engine: SimEngine) -> None:
        self.engine = engine
        self.orders: dict[str, GatewayOrder] = {}
        self.lock = threading.Lock()

    def add(self, order_id: str, extra: GatewayOrder) -> None:
        with self.lock:
            self.orders[order_id] = extra

    def extra(self, order_id: str) -> GatewayOrder | None:
        with self.lock:
            return self.orders.get(order_id)

    def visible(self, *, instrument: str | None = None) -> Iterator[tuple[SimOrder, GatewayOrder]]:
        """Our orders the venue shows now (not hidden by a visibility delay), oldest first.
        Call under the engine's lock."""
        with self.lock:
            items = list(self.orders.items())
        for order_id, extra in items:
            order = self.engine.orders.get(order_id)
            if order is None or not self.engine.visible(order):
                continue
            if instrument is None or extra.instrument == instrument:
                yield order, extra

    def recent(self, order: SimOrder) -> bool:
        return self.engine.now_ns() - order.created_ns <= RECENT_ORDERS_NS

    def fills_of(self, order_id: str) -> list[SimFill]:
        return self.engine.fills.of_order(order_id)
