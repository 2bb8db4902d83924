"""Executions and holds: what a fill does to an order, the books and the accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from perpsbot.sim._market import Trade
from perpsbot.sim._orders import SimFill, SimOrder
from perpsbot.sim._products import SimProduct

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

_ZERO = Decimal(0)
_FEE_STEP = Decimal("0.00000001")


def fee(
    engine: SimEngine, spec: SimProduct, price: Decimal, size: Decimal, *, maker: bool
) -> Decimal:
    if spec.is_future:
        return engine.config.futures_fee_per_contract * size
    rate = engine.config.maker_fee_rate if maker else engine.config.taker_fee_rate
    return (price * size * rate).quantize(_FEE_STEP)


def record_fill(
    engine: SimEngine,
    order: SimOrder,
    *,
    price: Decimal,
    size: Decimal,
    fee: Decimal,
    liquidity: str,
    now: int,
) -> Trade:
    spec = engine.specs[order.product_id]
    trade_id = engine.next_trade_id()
    engine.fills.append(
        SimFill(
            entry_id=engine.new_uuid(),
            trade_id=trade_id,
            order_id=order.order_id,
            product_id=order.product_id,
            side=order.side,
            price=price,
            size=size,
            commission=fee,
            liquidity=liquidity,
            time_ns=now,
        )
    )
    order.filled_size += size
    order.price_size_sum += price * size
    order.total_fees += fee
    order.number_of_fills += 1
    order.last_fill_ns = now
    account = engine.futures if spec.is_future else engine.wallet
    account.settle(spec, order.side, price, size, fee)
    maker_side = order.side if liquidity == "MAKER" else ("SELL" if order.side == "BUY" else "BUY")
    return engine.markets[order.product_id].record_trade(trade_id, price, size, maker_side, now)


def hold(engine: SimEngine, order: SimOrder) -> None:
    spec, price = engine.specs[order.product_id], order.limit_price or _ZERO
    if spec.is_future:
        rate = spec.margin_rate(order.side, intraday=engine.intraday())
        order.hold = order.remaining * spec.contract_size * price * rate
        engine.futures.order_holds += order.hold
    elif order.side == "BUY":
        order.hold = order.remaining * price * (1 + engine.config.maker_fee_rate)
        engine.wallet.hold(spec.quote_currency, order.hold)
    else:
        order.hold = order.remaining
        engine.wallet.hold(spec.base_currency, order.hold)


def release_hold(engine: SimEngine, order: SimOrder) -> None:
    spec = engine.specs[order.product_id]
    if spec.is_future:
        engine.futures.order_holds -= order.hold
    else:
        currency = spec.quote_currency if order.side == "BUY" else spec.base_currency
        engine.wallet.hold(currency, -order.hold)
    order.hold = _ZERO
