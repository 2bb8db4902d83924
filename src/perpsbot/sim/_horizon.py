"""The bounded memory of an exchange nobody asks about the distant past (a backtest's).

The exchange keeps every order and fill for its queries, so a long run's memory grows with
its trades. An exchange built with ``forget_settled_after_s`` forgets an order (and its
fills) once the order has been settled (filled, cancelled, expired, failed) for longer than
that: the order is then not found, its fills are not listed, and the transaction summary
still counts their volume and fees. A client that asks only about the recent past (the bot's
executor reads the fills of the last 30 hours at most, ``actors/execution/_sweep.py``'s
``FillSweep.since_ns``, and looks up orders it holds unfinished) sees no difference. Open
orders are kept however old.

When an order settled is not stored on it (a cancel has no time of its own), so the horizon
notes it at the first look that finds it settled, and looks once per :data:`_LOOK_EVERY_NS`
of the exchange's time: an order is forgotten between ``forget_settled_after_s`` and that
plus an hour after it settled.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from perpsbot.errors import InvalidConfigError

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

__all__ = ["SettledHorizon"]

_LOOK_EVERY_NS = 3600 * 10**9
_ZERO = Decimal(0)


class SettledHorizon:
    """Forgets an engine's orders settled more than ``after_s`` ago, and their fills.

    Raises:
        InvalidConfigError: ``after_s`` is not a positive number of seconds.
    """

    def __init__(self, after_s: float) -> None:
        if isinstance(after_s, bool) or not math.isfinite(after_s) or after_s <= 0:
            raise InvalidConfigError(
                f"forget_settled_after_s must be a positive number of seconds, was {after_s!r}"
            )
        self._after_ns = round(after_s * 10**9)
        self._next_look_ns: int | None = None
        self._settled_at: dict[str, int] = {}  # order id -> when a look first found it settled
        self.forgotten_volume: dict[str, Decimal] = {}
        """Per product: the notional of the fills forgotten (price x size x contract size)."""
        self.forgotten_fees: dict[str, Decimal] = {}
        """Per product: the commissions of the fills forgotten."""

    def look(self, engine: SimEngine, now_ns: int) -> None:
        """Note the orders settled since the last look and forget those settled before the
        horizon; at most once per hour of the exchange's time (call it holding its lock)."""
        if self._next_look_ns is not None and now_ns < self._next_look_ns:
            return
        self._next_look_ns = now_ns + _LOOK_EVERY_NS
        cutoff_ns = now_ns - self._after_ns
        settled_at = self._settled_at
        forget: set[str] = set()
        for order_id, order in engine.orders.items():
            if order.is_open:
                continue
            at = settled_at.setdefault(order_id, now_ns)
            if at < cutoff_ns:
                forget.add(order_id)
        if not forget:
            return
        for order_id in forget:
            order = engine.orders.pop(order_id)
            del settled_at[order_id]
            if engine.by_client_id.get(order.client_order_id) == order_id:
                del engine.by_client_id[order.client_order_id]
        kept = []
        for fill in engine.fills:
            if fill.order_id not in forget:
                kept.append(fill)
                continue
            pid = fill.product_id
            notional = fill.price * fill.size * engine.specs[pid].contract_size
            self.forgotten_volume[pid] = self.forgotten_volume.get(pid, _ZERO) + notional
            self.forgotten_fees[pid] = self.forgotten_fees.get(pid, _ZERO) + fill.commission
        engine.fills.replace(kept)
