"""``POST /orders/edit`` and ``/orders/edit_preview``: new price or size for a resting GTC limit."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.sim._execution import hold, release_hold
from perpsbot.sim._orders import SimOrder
from perpsbot.sim._wire import dec, is_multiple, to_decimal

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

_NO_PREVIEW_FAILURE = "UNKNOWN_PREVIEW_FAILURE_REASON"


class _EditRefused(Exception):  # noqa: N818 - an answer carried out of the checks, not a fault
    def __init__(self, reason: str, preview: str = _NO_PREVIEW_FAILURE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.preview = preview


def edit_order(engine: SimEngine, body: dict[str, Any], *, preview: bool) -> dict[str, Any]:
    """Apply (or only check, with ``preview``) an edit; answers in Coinbase's edit shapes."""
    with engine.lock:
        try:
            order, price, size = _checked(engine, body)
        except _EditRefused as refused:
            error = {
                "edit_failure_reason": refused.reason,
                "preview_failure_reason": refused.preview,
            }
            if preview:
                return {"errors": [error]}
            return {"success": False, "errors": [error]}
        spec = engine.specs[order.product_id]
        if preview:
            notional = size * price * spec.contract_size
            commission = (
                engine.config.futures_fee_per_contract * size
                if spec.is_future
                else (notional * engine.config.maker_fee_rate).quantize(Decimal("0.00000001"))
            )
            market = engine.markets[order.product_id]
            return {
                "errors": [],
                "slippage": "0",
                "order_total": dec(notional + commission),
                "commission_total": dec(commission),
                "quote_size": dec(notional),
                "base_size": dec(size),
                "best_bid": dec(market.best_bid),
                "best_ask": dec(market.best_ask),
                "average_filled_price": dec(order.average_price),
            }
        release_hold(engine, order)
        order.limit_price, order.base_size = price, size
        order.configuration = {
            **order.configuration,
            "limit_price": dec(price),
            "base_size": dec(size),
        }
        if order.remaining == 0:
            order.status = "FILLED"
        else:
            hold(engine, order)
        engine.publish_order(order)
        engine.publish_book(order.product_id)
        return {"success": True, "errors": []}


def _checked(engine: SimEngine, body: dict[str, Any]) -> tuple[SimOrder, Decimal, Decimal]:
    order = engine.orders.get(str(body.get("order_id", "")))
    if order is None or not engine.visible(order):
        raise _EditRefused("ORDER_NOT_FOUND")
    if order.config_key != "limit_limit_gtc":
        raise _EditRefused("ONLY_LIMIT_ORDER_EDITS_SUPPORTED")
    if not order.is_open:
        raise _EditRefused("ONLY_OPEN_ORDERS_CAN_BE_EDITED")
    spec = engine.specs[order.product_id]
    try:
        price = to_decimal(body.get("price"), "price")
    except ValueError as exc:
        raise _EditRefused("INVALID_EDITED_PRICE") from exc
    try:
        size = to_decimal(body.get("size"), "size")
    except ValueError as exc:
        raise _EditRefused("INVALID_EDITED_SIZE") from exc
    if price <= 0 or not is_multiple(price, spec.price_increment):
        raise _EditRefused("INVALID_EDITED_PRICE")
    if size <= 0 or not is_multiple(size, spec.base_increment) or size > spec.base_max_size:
        raise _EditRefused("INVALID_EDITED_SIZE")
    if size < order.filled_size:
        raise _EditRefused("CANNOT_EDIT_TO_BELOW_FILLED_SIZE")
    if price == order.limit_price and size == order.base_size:
        raise _EditRefused("EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST")
    market = engine.markets[order.product_id]
    crosses = price >= market.best_ask if order.side == "BUY" else price <= market.best_bid
    if order.post_only and crosses:
        raise _EditRefused(
            "UNKNOWN_EDIT_ORDER_FAILURE_REASON", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"
        )
    _check_funds(engine, order, price, size)
    return order, price, size


def _check_funds(engine: SimEngine, order: SimOrder, price: Decimal, size: Decimal) -> None:
    spec = engine.specs[order.product_id]
    remaining = size - order.filled_size
    if spec.is_future:
        intraday = engine.intraday()
        rate = spec.margin_rate(order.side, intraday=intraday)
        extra = remaining * spec.contract_size * price * rate - order.hold
        available = engine.futures.available_margin(engine.specs, engine.marks(), intraday=intraday)
        reason = "PREVIEW_INSUFFICIENT_FUNDS_FOR_FUTURES"
    elif order.side == "BUY":
        extra = remaining * price * (1 + engine.config.maker_fee_rate) - order.hold
        available = engine.wallet.available(spec.quote_currency)
        reason = "PREVIEW_INSUFFICIENT_FUND"
    else:
        extra = remaining - order.hold
        available = engine.wallet.available(spec.base_currency)
        reason = "PREVIEW_INSUFFICIENT_FUND"
    if extra > available:
        raise _EditRefused("UNKNOWN_EDIT_ORDER_FAILURE_REASON", reason)
