"""Resting orders meeting the walked book: maker fills, stop triggers and GTD expiry."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from perpsbot.sim._execution import fee, hold, record_fill, release_hold
from perpsbot.sim._market import ProductMarket, Trade
from perpsbot.sim._orders import SimOrder
from perpsbot.sim._trading import take

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
        if order.is_pending_stop:
            trades += _trigger(engine, order, now)
            continue
        limit = order.limit_price or _ZERO
        crossing = _crossing(market, order.side, limit, through=through)
        reach = sum((size for _, size in crossing), _ZERO)
        size = min(order.remaining, reach)
        if size <= 0:
            continue
        _consume(market, order.side, crossing, size)
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


def _trigger(engine: SimEngine, order: SimOrder, now: int) -> list[Trade]:
    """Turn a stop into a limit order once the last trade crosses its stop price."""
    last, stop = engine.markets[order.product_id].last_price, order.stop_price or _ZERO
    up = order.stop_direction == "STOP_DIRECTION_STOP_UP"
    if (up and last < stop) or (not up and last > stop):
        return []
    order.triggered = True
    release_hold(engine, order)
    trades = take(engine, order, now)
    if order.remaining == 0:
        order.status = "FILLED"
    else:
        hold(engine, order)
    engine.publish_order(order)
    if engine.specs[order.product_id].is_future:
        engine.publish_balance()
    return trades


def _crossing(
    market: ProductMarket, side: str, limit: Decimal, *, through: bool
) -> list[tuple[Decimal, Decimal]]:
    """The levels that reach a resting ``side`` order at ``limit``, best first: the best
    ones, up to the first that does not (made no further)."""
    crossing = []
    for price, size in market.liquidity(side).best_first():
        if not _reaches(side, price, limit, through=through):
            break
        crossing.append((price, size))
    return crossing


def _reaches(side: str, price: Decimal, limit: Decimal, *, through: bool) -> bool:
    """Whether synthetic liquidity at ``price`` reaches a resting ``side`` order at ``limit``."""
    if price == limit:
        return not through
    return price < limit if side == "BUY" else price > limit


def _consume(
    market: ProductMarket, side: str, crossing: list[tuple[Decimal, Decimal]], size: Decimal
) -> None:
    """Take ``size`` out of the crossing levels, best first, so the book is never left crossed."""
    for price, level in crossing:
        take = min(size, level)
        market.take(side, price, take)
        size -= take
        if size == 0:
            return
