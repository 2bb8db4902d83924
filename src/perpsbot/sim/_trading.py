"""Order entry: create, preview, cancel, close position, and resting orders meeting the walk."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.config import DuplicateClientOrderId
from perpsbot.sim._events import TradesPrinted
from perpsbot.sim._execution import fee, hold, record_fill
from perpsbot.sim._market import Trade
from perpsbot.sim._orders import SimOrder
from perpsbot.sim._validation import ParsedOrder, Rejection, parse_order
from perpsbot.sim._wire import dec, quantize_down

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

_ZERO = Decimal(0)


def place_order(engine: SimEngine, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /orders``: the success body, or the HTTP-200 ``success: false`` body."""
    with engine.lock:
        client_id = str(body.get("client_order_id") or "")
        if not client_id:
            return Rejection(
                new_order="INVALID_REQUEST", message="client_order_id is required"
            ).response()
        duplicate = answer_duplicate(engine, client_id)
        if duplicate is not None:
            return duplicate
        try:
            parsed = checked(engine, body)
        except Rejection as rejection:
            return rejection.response()
        spec = parsed.product
        order = SimOrder(
            order_id=engine.new_uuid(),
            client_order_id=client_id,
            product_id=spec.product_id,
            product_type=spec.product_type,
            side=parsed.side,
            config_key=parsed.config_key,
            configuration=parsed.configuration,
            base_size=parsed.base_size,
            quote_size=parsed.quote_size,
            limit_price=parsed.limit_price,
            post_only=parsed.post_only,
            end_time_ns=parsed.end_time_ns,
            created_ns=engine.now_ns(),
            leverage=dec(parsed.leverage) if spec.is_future else "",
            margin_type=parsed.margin_type,
            contract_size=spec.contract_size,
            visible_after_mono=engine.clock.monotonic() + engine.visibility_delay_s,
            stop_price=parsed.stop_price,
            stop_direction=parsed.stop_direction,
        )
        engine.orders[order.order_id] = order
        engine.by_client_id[client_id] = order.order_id
        _execute(engine, order, parsed)
        return _success(order)


def answer_duplicate(engine: SimEngine, client_id: str) -> dict[str, Any] | None:
    """The answer to an order whose ``client_id`` is already used, or None if it is not.

    ``return_existing``: the existing order's success answer, as Coinbase's docs describe.
    ``reject``: HTTP 200 ``success: false`` with ``new_order_failure_reason``
    ``DUPLICATE_CLIENT_ORDER_ID`` (a reason Coinbase lists), the way a venue that refuses a
    reused id answers. Either way no second order is created.
    """
    existing = engine.by_client_id.get(client_id)
    if existing is None:
        return None
    if engine.duplicate_ids is DuplicateClientOrderId.REJECT:
        return Rejection(
            new_order="DUPLICATE_CLIENT_ORDER_ID",
            message=f"client_order_id {client_id!r} is already used by an order",
        ).response()
    return _success(engine.orders[existing])


def _success(order: SimOrder) -> dict[str, Any]:
    return {
        "success": True,
        "success_response": {
            "order_id": order.order_id,
            "product_id": order.product_id,
            "side": order.side,
            "client_order_id": order.client_order_id,
        },
        "order_configuration": {order.config_key: order.configuration},
    }


def checked(engine: SimEngine, body: dict[str, Any]) -> ParsedOrder:
    parsed = parse_order(
        body,
        engine.specs,
        now_ns=engine.now_ns(),
        trading_disabled=frozenset(engine.trading_disabled),
        cancel_only=frozenset(engine.cancel_only),
    )
    market = engine.markets[parsed.product.product_id]
    if parsed.stop_price is not None:
        _check_stop_side(parsed.stop_price, parsed.stop_direction, market.last_price)
    if parsed.post_only and parsed.limit_price is not None:
        crosses = (
            parsed.limit_price >= market.best_ask
            if parsed.side == "BUY"
            else parsed.limit_price <= market.best_bid
        )
        if crosses:
            raise Rejection(
                new_order="INVALID_LIMIT_PRICE_POST_ONLY", message="post-only order would cross"
            )
    _check_funds(engine, parsed)
    return parsed


def _check_stop_side(stop: Decimal, direction: str, last: Decimal) -> None:
    """A stop must sit on the side of the last trade it waits to be crossed from."""
    if direction == "STOP_DIRECTION_STOP_UP" and stop <= last:
        raise Rejection(
            preview="PREVIEW_STOP_PRICE_BELOW_LAST_TRADE_PRICE",
            message=f"a stop-up order needs stop_price above the last trade {last}, was {stop}",
        )
    if direction == "STOP_DIRECTION_STOP_DOWN" and stop >= last:
        raise Rejection(
            preview="PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
            message=f"a stop-down order needs stop_price below the last trade {last}, was {stop}",
        )


def _check_funds(engine: SimEngine, parsed: ParsedOrder) -> None:
    spec, side = parsed.product, parsed.side
    market = engine.markets[spec.product_id]
    if spec.is_future:
        pos = engine.futures.positions.get(spec.product_id)
        held = pos.contracts if pos is not None else _ZERO
        size = parsed.base_size or _ZERO
        growing = size if (held >= 0) == (side == "BUY") else max(_ZERO, size - abs(held))
        price = parsed.limit_price or (market.best_ask if side == "BUY" else market.best_bid)
        intraday = engine.intraday()
        need = growing * spec.contract_size * price * spec.margin_rate(side, intraday=intraday)
        if need > engine.futures.available_margin(engine.specs, engine.marks(), intraday=intraday):
            raise Rejection(
                preview="PREVIEW_INSUFFICIENT_FUNDS_FOR_FUTURES", message="Insufficient margin"
            )
        return
    if side == "SELL":
        if (parsed.base_size or _ZERO) > engine.wallet.available(spec.base_currency):
            raise Rejection(
                preview="PREVIEW_INSUFFICIENT_FUND",
                message="Insufficient balance in source account",
            )
        return
    if parsed.quote_size is not None:
        need = parsed.quote_size
    elif parsed.limit_price is not None and parsed.rests:
        need = (parsed.base_size or _ZERO) * parsed.limit_price
    else:
        size, notional = dry_sweep(engine, parsed)
        need = notional
    if need * (1 + engine.config.taker_fee_rate) > engine.wallet.available(spec.quote_currency):
        raise Rejection(
            preview="PREVIEW_INSUFFICIENT_FUND", message="Insufficient balance in source account"
        )


def dry_sweep(engine: SimEngine, parsed: ParsedOrder) -> tuple[Decimal, Decimal]:
    """The size and notional a taker order would get from the book now, without taking it."""
    market = engine.markets[parsed.product.product_id]
    left, budget, size, notional = parsed.base_size, parsed.quote_size, _ZERO, _ZERO
    for price, level in market.liquidity(parsed.side).best_first():
        if not _within(parsed.side, price, parsed.limit_price):
            break
        want = (
            left
            if budget is None
            else quantize_down(
                budget / (price * (1 + engine.config.taker_fee_rate)), parsed.product.base_increment
            )
        )
        take = min(want or _ZERO, level)
        if take <= 0:
            break
        size, notional = size + take, notional + take * price * parsed.product.contract_size
        if budget is None:
            left = (left or _ZERO) - take
        else:
            budget -= take * price * (1 + engine.config.taker_fee_rate)
    return size, notional


def _within(side: str, price: Decimal, limit: Decimal | None) -> bool:
    return limit is None or (price <= limit if side == "BUY" else price >= limit)


def _execute(engine: SimEngine, order: SimOrder, parsed: ParsedOrder) -> None:
    now = engine.now_ns()
    if parsed.is_fok and dry_sweep(engine, parsed)[0] < (parsed.base_size or _ZERO):
        order.status, order.cancel_message = "CANCELLED", "Fill-or-kill order could not fill"
    elif parsed.stop_price is not None:
        order.status = "OPEN"
        engine.rest(order)
        hold(engine, order)
    else:
        trades = take(engine, order, now)
        if order.quote_size is not None:
            order.status = "FILLED" if order.filled_size > 0 else "CANCELLED"
        elif order.remaining == 0:
            order.status = "FILLED"
        elif parsed.rests:
            order.status = "OPEN"
            engine.rest(order)
            hold(engine, order)
        else:
            order.status, order.cancel_message = "CANCELLED", "IOC remainder cancelled"
        if trades:
            engine.emit(TradesPrinted(trades=tuple(trades)))
    pid = order.product_id
    engine.publish_book(pid)
    engine.publish_order(order)
    engine.publish_ticker(pid)
    if parsed.product.is_future:
        engine.publish_balance()


def take(engine: SimEngine, order: SimOrder, now: int) -> list[Trade]:
    """Fill ``order`` as a taker against the synthetic levels, up to its limit price."""
    market, spec = engine.markets[order.product_id], engine.specs[order.product_id]
    budget, trades = order.quote_size, []
    for price, level in market.liquidity(order.side).best_first():
        if not _within(order.side, price, order.limit_price):
            break
        if budget is None:
            want = order.remaining
        else:
            want = quantize_down(
                budget / (price * (1 + engine.config.taker_fee_rate)), spec.base_increment
            )
        size = min(want, level)
        if size <= 0:
            break
        market.take(order.side, price, size)
        commission = fee(engine, spec, price, size, maker=False)
        if budget is not None:
            budget -= price * size + commission
        trades.append(
            record_fill(
                engine, order, price=price, size=size, fee=commission, liquidity="TAKER", now=now
            )
        )
        if budget is None and order.remaining == 0:
            break
    return trades
