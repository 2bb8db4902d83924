"""Resting orders meeting the walked book: fills as a maker, and GTD expiry."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from perpsbot.sim._execution import fee, hold, record_fill, release_hold
from perpsbot.sim._market import Trade

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

_ZERO = Decimal(0)


def work_resting_orders(engine: SimEngine, pid: str, now: int) -> list[Trade]:
    """Expire due GTD orders and fill resting orders the walked book now reaches."""
    market, trades = engine.markets[pid], []
    through = engine.config.fill_model == "through"
    for order in engine.resting_orders(pid):
        if order.end_time_ns is not None and order.end_time_ns <= now:
            release_hold(engine, order)
            order.status = "EXPIRED"
            engine.publish_order(order)
            continue
        limit = order.limit_price or _ZERO
        if order.side == "BUY":
            reach = sum(
                (s for p, s in market.asks.items() if p < limit or (p == limit and not through)),
                _ZERO,
            )
        else:
            reach = sum(
                (s for p, s in market.bids.items() if p > limit or (p == limit and not through)),
                _ZERO,
            )
        size = min(order.remaining, reach)
        if size <= 0:
            continue
        release_hold(engine, order)
        commission = fee(engine, engine.specs[pid], limit, size, maker=True)
        trades.append(
            record_fill(
                engine, order, price=limit, size=size, fee=commission, liquidity="MAKER", now=now
            )
        )
        if order.remaining == 0:
            order.status = "FILLED"
        else:
            hold(engine, order)
        engine.publish_order(order)
        if engine.specs[pid].is_future:
            engine.publish_balance()
    return trades
