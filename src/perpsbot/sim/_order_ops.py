"""Preview, cancel and close-position: the order endpoints beyond create."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.sim._execution import release_hold
from perpsbot.sim._orders import SimOrder
from perpsbot.sim._trading import answer_duplicate, checked, dry_sweep, place_order
from perpsbot.sim._validation import Rejection
from perpsbot.sim._wire import dec

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

_ZERO = Decimal(0)


def preview_order(engine: SimEngine, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /orders/preview``: the same checks as create, nothing changed."""
    with engine.lock:
        spec = engine.specs.get(str(body.get("product_id", "")))
        errs: list[str] = []
        try:
            parsed = checked(engine, body)
        except Rejection as rejection:
            if rejection.preview != "UNKNOWN_PREVIEW_FAILURE_REASON":
                errs.append(rejection.preview)
            else:
                errs.append(f"PREVIEW_{rejection.new_order}")
            parsed = None
        market = engine.markets[spec.product_id] if spec is not None else None
        size, notional = dry_sweep(engine, parsed) if parsed is not None else (_ZERO, _ZERO)
        if parsed is not None and parsed.rests and parsed.limit_price is not None and size == 0:
            size = parsed.base_size or _ZERO
            notional = size * parsed.limit_price * parsed.product.contract_size
        fee = _ZERO
        margin = _ZERO
        if parsed is not None and spec is not None:
            if spec.is_future:
                fee = engine.config.futures_fee_per_contract * size
                rate = spec.intraday_margin.for_side(parsed.side) if spec.intraday_margin else _ZERO
                margin = notional * rate
            else:
                fee = (notional * engine.config.taker_fee_rate).quantize(Decimal("0.00000001"))
        avg = notional / (size * spec.contract_size) if size and spec is not None else _ZERO
        leverage = parsed.leverage if parsed is not None else Decimal(1)
        return {
            "order_total": dec(notional + fee),
            "commission_total": dec(fee),
            "errs": errs,
            "warning": [],
            "quote_size": dec(notional),
            "base_size": dec(size),
            "best_bid": dec(market.best_bid) if market else "0",
            "best_ask": dec(market.best_ask) if market else "0",
            "is_max": False,
            "order_margin_total": dec(margin),
            "leverage": dec(leverage),
            "long_leverage": dec(leverage),
            "short_leverage": dec(leverage),
            "slippage": "0",
            "preview_id": engine.new_uuid(),
            "current_liquidation_buffer": "0",
            "projected_liquidation_buffer": "0",
            "max_leverage": "",
            "pnl_configuration": None,
            "est_average_filled_price": dec(avg.quantize(Decimal("0.00000001"))),
            "predicted_liquidation_price": "0",
        }


def cancel_orders(engine: SimEngine, order_ids: list[str]) -> dict[str, Any]:
    """``POST /orders/batch_cancel``: one result per id, in the request's order."""
    results = []
    with engine.lock:
        for order_id in order_ids:
            order = engine.orders.get(order_id)
            if order is None or not engine.visible(order):
                reason, ok = "UNKNOWN_CANCEL_ORDER", False
            elif order.status == "FILLED":
                reason, ok = "ORDER_IS_FULLY_FILLED", False
            elif not order.is_open:
                reason, ok = "UNKNOWN_CANCEL_ORDER", False
            else:
                order.status = "CANCEL_QUEUED"
                engine.publish_order(order)
                engine.publish_book(order.product_id)
                if engine.stuck_cancels > 0:
                    engine.stuck_cancels -= 1
                    engine.stuck_orders.append(order)
                else:
                    finish_cancel(engine, order)
                reason, ok = "UNKNOWN_CANCEL_FAILURE_REASON", True
            results.append({"success": ok, "failure_reason": reason, "order_id": order_id})
    return {"results": results}


def finish_cancel(engine: SimEngine, order: SimOrder) -> None:
    """Take a ``CANCEL_QUEUED`` order to ``CANCELLED`` and free its hold."""
    release_hold(engine, order)
    order.status, order.cancel_message = "CANCELLED", "User requested cancel"
    engine.publish_order(order)


def close_position(engine: SimEngine, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /orders/close_position``: a market order against the open position."""
    with engine.lock:
        duplicate = answer_duplicate(engine, str(body.get("client_order_id") or ""))
        if duplicate is not None:  # before the position check: the position may be gone now
            return duplicate
        pid = str(body.get("product_id", ""))
        pos = engine.futures.positions.get(pid)
        if pos is None or pos.contracts == 0:
            return Rejection(
                new_order="INVALID_REQUEST", message=f"no open position in {pid!r} to close"
            ).response()
        size = body.get("size") or dec(abs(pos.contracts))
        order_body = {
            "client_order_id": body.get("client_order_id"),
            "product_id": pid,
            "side": "SELL" if pos.contracts > 0 else "BUY",
            "order_configuration": {"market_market_ioc": {"base_size": str(size)}},
        }
        return place_order(engine, order_body)
