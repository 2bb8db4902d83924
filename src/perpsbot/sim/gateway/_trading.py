"""Order entry and order lookups of the gateway, on the shared engine.

``private/buy`` and ``private/sell`` become an engine order (a fresh engine client id each:
labels do not deduplicate); ``valid_until`` refuses a request that reaches matching after it
(``timed_out``); lookups show only what the venue would show (visibility delay, recent windows,
``include_unfilled``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.sim._order_ops import cancel_orders
from perpsbot.sim._trading import place_order
from perpsbot.sim.gateway import _rpc as rpc
from perpsbot.sim.gateway._book import GatewayLedger
from perpsbot.sim.gateway._views import GatewayOrder, instruments, ms, order_json, trade_json

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine
    from perpsbot.sim._products import SimProduct

_ZERO = Decimal(0)
_TIF = {"good_til_cancelled", "immediate_or_cancel", "fill_or_kill"}
_REFUSALS = {
    "INSUFFICIENT": (rpc.NOT_ENOUGH_FUNDS, "not_enough_funds"),
    "POST_ONLY": (rpc.POST_ONLY_REJECT, "post_only_reject"),
    "SIZE": (rpc.AMOUNT_TOO_LOW, "invalid_amount"),
    "PRICE": (rpc.INVALID_PARAMS, "Invalid params"),
}


def _param(params: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = params.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise rpc.RpcError(
            rpc.INVALID_PARAMS,
            "Invalid params",
            {"reason": f"{name} must be {_kind_name(kind)}, was {value!r}"[:200], "param": name},
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def instrument(engine: SimEngine, params: dict[str, Any]) -> tuple[str, SimProduct]:
    name = _param(params, "instrument_name", str)
    spec = instruments(engine).get(name)
    if spec is None:
        raise rpc.RpcError(
            rpc.INVALID_PARAMS,
            "Invalid params",
            {
                "reason": f"instrument_name {name!r} is not an instrument",
                "param": "instrument_name",
            },
        )
    return name, spec


def place(engine: SimEngine, ledger: GatewayLedger, side: str, params: dict[str, Any]) -> Any:
    """``private/buy`` / ``private/sell``: ``{"order": …, "trades": […]}`` or an RpcError."""
    with engine.lock:
        name, spec = instrument(engine, params)
        valid_until = params.get("valid_until")
        if valid_until is not None and ms(engine.now_ns()) > _param(params, "valid_until", int):
            raise rpc.RpcError(rpc.GENERAL_ERROR, "timed_out", {"reason": "valid_until passed"})
        contracts = _contracts(params, spec)
        order_type = params.get("type", "limit")
        tif = params.get("time_in_force", "good_til_cancelled")
        if tif not in _TIF:
            raise rpc.RpcError(
                rpc.INVALID_PARAMS, "Invalid params", {"reason": f"time_in_force {tif!r}"}
            )
        label = params.get("label", "")
        if not isinstance(label, str) or len(label) > 64:
            raise rpc.RpcError(
                rpc.INVALID_PARAMS, "Invalid params", {"reason": "label: a string of at most 64"}
            )
        reduce_only = params.get("reduce_only") is True
        if reduce_only:
            _check_reduces(engine, spec, side, contracts)
        if params.get("post_only") is True and params.get("reject_post_only") is not True:
            params = _repriced(engine, spec, side, params)
        body = {
            "client_order_id": engine.new_uuid(),
            "product_id": spec.product_id,
            "side": side.upper(),
            "order_configuration": _configuration(params, order_type, tif, contracts),
        }
        answer = place_order(engine, body)
        if not answer.get("success"):
            raise _refusal(answer["error_response"])
        order_id = answer["success_response"]["order_id"]
        extra = GatewayOrder(
            label=label, instrument=name, order_type=str(order_type), reduce_only=reduce_only
        )
        ledger.add(order_id, extra)
        order = engine.orders[order_id]
        engine.publish_order(order)  # the user channels hear about the label now
        trades = [
            trade_json(f, order, extra, i) for i, f in enumerate(ledger.fills_of(order_id), 1)
        ]
        return {"order": order_json(order, extra), "trades": trades}


def _contracts(params: dict[str, Any], spec: SimProduct) -> Decimal:
    contracts = params.get("contracts")
    amount = params.get("amount")
    if contracts is None and amount is None:
        raise rpc.RpcError(
            rpc.INVALID_PARAMS, "Invalid params", {"reason": "amount or contracts is required"}
        )
    if contracts is not None:
        size = Decimal(_param(params, "contracts", (int, Decimal)))
        if amount is not None and Decimal(amount) != size * spec.contract_size:
            raise rpc.RpcError(
                rpc.INVALID_PARAMS,
                "Invalid params",
                {"reason": "contracts and amount must match each other"},
            )
    else:
        size = Decimal(_param(params, "amount", (int, Decimal))) / spec.contract_size
    if size <= 0 or size != size.to_integral_value():
        raise rpc.RpcError(
            rpc.AMOUNT_TOO_LOW,
            "invalid_amount",
            {"reason": f"size must be a whole number of contracts of {spec.contract_size}"},
        )
    return size


def _configuration(
    params: dict[str, Any], order_type: object, tif: str, contracts: Decimal
) -> dict[str, Any]:
    size = str(contracts)
    if order_type == "market":
        key = "market_market_fok" if tif == "fill_or_kill" else "market_market_ioc"
        return {key: {"base_size": size}}
    if order_type != "limit":
        raise rpc.RpcError(
            rpc.INVALID_PARAMS,
            "Invalid params",
            {"reason": f"type {order_type!r}", "param": "type"},
        )
    price = str(_param(params, "price", (int, Decimal)))
    if tif == "immediate_or_cancel":
        return {"sor_limit_ioc": {"base_size": size, "limit_price": price}}
    if tif == "fill_or_kill":
        return {"limit_limit_fok": {"base_size": size, "limit_price": price}}
    post_only = params.get("post_only") is True
    # Without reject_post_only a crossing post-only order is re-priced on the venue; the sim
    # refuses it either way (perpsbot always sends reject_post_only, 1.7).
    return {"limit_limit_gtc": {"base_size": size, "limit_price": price, "post_only": post_only}}


def _repriced(
    engine: SimEngine, spec: SimProduct, side: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A post-only order without ``reject_post_only`` that would cross is re-priced one tick
    inside the spread, as the venue does (docs/venues/global-derivatives.md 1.7)."""
    price = params.get("price")
    market = engine.markets[spec.product_id]
    tick = spec.price_increment
    if not isinstance(price, (int, Decimal)):
        return params
    if side == "buy" and price >= market.best_ask:
        return {**params, "price": market.best_ask - tick}
    if side == "sell" and price <= market.best_bid:
        return {**params, "price": market.best_bid + tick}
    return params


def _check_reduces(engine: SimEngine, spec: SimProduct, side: str, contracts: Decimal) -> None:
    pos = engine.futures.positions.get(spec.product_id)
    held = pos.contracts if pos is not None else _ZERO
    reduces = (held > 0 and side == "sell") or (held < 0 and side == "buy")
    if not reduces or contracts > abs(held):
        raise rpc.RpcError(rpc.OTHER_REJECT, "other_reject reduce_only", {"reason": "reduce_only"})


def _refusal(error: dict[str, Any]) -> rpc.RpcError:
    why = f"{error.get('new_order_failure_reason', '')} {error.get('preview_failure_reason', '')}"
    for word, (code, message) in _REFUSALS.items():
        if word in why:
            return rpc.RpcError(code, message, {"reason": error.get("message", "")})
    return rpc.RpcError(rpc.OTHER_REJECT, "other_reject", {"reason": error.get("message", "")})


def cancel(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    """``private/cancel``: the cancelled order, or the code saying why it was not."""
    order_id = _param(params, "order_id", str)
    with engine.lock:
        order = engine.orders.get(order_id)
        extra = ledger.extra(order_id)
        if order is None or extra is None or not engine.visible(order):
            raise rpc.RpcError(rpc.ORDER_NOT_FOUND, "order_not_found")
        if order.status == "FILLED":
            raise rpc.RpcError(rpc.ALREADY_FILLED, "already_filled")
        if not order.is_open:
            raise rpc.RpcError(rpc.ALREADY_CLOSED, "already_closed")
        cancel_orders(engine, [order_id])
        return order_json(order, extra)


def order_state(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    order_id = _param(params, "order_id", str)
    with engine.lock:
        order = engine.orders.get(order_id)
        extra = ledger.extra(order_id)
        if order is None or extra is None or not engine.visible(order):
            raise rpc.RpcError(rpc.ORDER_NOT_FOUND, "order_not_found")
        return order_json(order, extra)


def _currency_of(params: dict[str, Any]) -> str:
    return str(_param(params, "currency", str)).upper()


def open_orders(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    """``private/get_open_orders_by_instrument`` and ``…_by_label`` (``currency``, ``label``)."""
    with engine.lock:
        if "label" in params:
            currency, label = _currency_of(params), _param(params, "label", str)
            return [
                order_json(o, x)
                for o, x in ledger.visible()
                if o.is_open and x.label == label and _in_currency(engine, x, currency)
            ]
        name, _ = instrument(engine, params)
        return [order_json(o, x) for o, x in ledger.visible(instrument=name) if o.is_open]


def _in_currency(engine: SimEngine, extra: GatewayOrder, currency: str) -> bool:
    spec = instruments(engine)[extra.instrument]
    return currency in (spec.base_currency, "USDC", "ANY")


def order_state_by_label(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    currency, label = _currency_of(params), _param(params, "label", str)
    with engine.lock:
        return [
            order_json(o, x)
            for o, x in ledger.visible()
            if x.label == label and ledger.recent(o) and _in_currency(engine, x, currency)
        ]


def order_history(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    """Closed orders, newest first; fully unfilled ones only with ``include_unfilled``."""
    name, _ = instrument(engine, params)
    count = int(params.get("count", 20))
    offset = int(params.get("offset", 0))
    if not 1 <= count <= 1000 or offset < 0:
        raise rpc.RpcError(rpc.INVALID_PARAMS, "Invalid params", {"reason": "count 1..1000"})
    unfilled = params.get("include_unfilled") is True
    historical = params.get("historical") is True
    with engine.lock:
        rows = [
            order_json(o, x)
            for o, x in ledger.visible(instrument=name)
            if not o.is_open and (unfilled or o.filled_size > 0) and ledger.recent(o) != historical
        ]
    rows.reverse()
    return rows[offset : offset + count]


def user_trades(engine: SimEngine, ledger: GatewayLedger, params: dict[str, Any]) -> Any:
    """``private/get_user_trades_by_instrument`` / ``…_by_order``, oldest first."""
    with engine.lock:
        if "order_id" in params:
            order_id = _param(params, "order_id", str)
            order, extra = engine.orders.get(order_id), ledger.extra(order_id)
            if order is None or extra is None or not engine.visible(order):
                return []
            pairs = [(order, extra)]
        else:
            name, _ = instrument(engine, params)
            pairs = list(ledger.visible(instrument=name))
        by_id = {o.order_id: (o, x) for o, x in pairs}
        trades = []
        for seq, fill in enumerate(engine.fills, 1):
            if fill.order_id in by_id:
                order, extra = by_id[fill.order_id]
                trades.append(trade_json(fill, order, extra, seq))
        if "order_id" in params:
            return trades
        count = int(params.get("count", 10))
        return {"trades": trades[-count:], "has_more": len(trades) > count}
