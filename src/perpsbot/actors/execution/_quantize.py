"""Fitting an intent to a product: increments, minimums, and the order it becomes.

Sizes round down to the base increment (never more than the strategy asked for). A limit
price rounds in the order's favour: a buy down, a sell up, so the rounding never makes the
order pay more than its limit. A rejection names the rule and the numbers, e.g.
``"size 0.00004 BTC is below base_min_size 0.0001 for BTC-USD"``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import attrs

from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.messages import (
    OrderIntent,
    OrderStatus,
    OrderType,
    ProductSpec,
    Side,
    TimeInForce,
)
from perpsbot.venue.gateway import NewOrder

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class Quantized:
    """An intent's size and limit price on the product's grid."""

    size: Decimal
    limit_price: Decimal | None
    notional: Decimal
    """Quote currency at the limit price, or at the checked mark for a market order."""


@attrs.frozen(kw_only=True)
class QuantizeRejection:
    """Why an intent cannot become an order on this product."""

    rule: str
    reason: str


def _round(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``value`` on the grid of ``step``, written with the step's decimal places."""
    return ((value / step).to_integral_value(rounding=rounding) * step).quantize(step)


def _unit(spec: ProductSpec) -> str:
    return "contracts" if spec.is_future else spec.symbol.split("-")[0]


def _quote(spec: ProductSpec) -> str:
    parts = spec.symbol.split("-")
    return "USD" if spec.is_future or len(parts) < 2 else parts[1]


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def quantize(
    intent: OrderIntent, spec: ProductSpec, checked_mark: Decimal
) -> Quantized | QuantizeRejection:
    """Fit ``intent`` to ``spec``; ``checked_mark`` prices a market order's notional."""
    symbol, unit = spec.symbol, _unit(spec)
    if not spec.tradable:
        return QuantizeRejection(
            rule="product_not_tradable",
            reason=f"{symbol} is not tradable now (trading disabled or cancel-only)",
        )
    size = _round(intent.size, spec.base_increment, ROUND_FLOOR)
    rounded = (
        ""
        if size == intent.size
        else f" ({_plain(intent.size)} rounded down to base_increment "
        f"{_plain(spec.base_increment)})"
    )
    if size <= 0 or size < spec.base_min_size:
        return QuantizeRejection(
            rule="base_min_size",
            reason=f"size {_plain(size)} {unit}{rounded} is below base_min_size "
            f"{_plain(spec.base_min_size)} for {symbol}",
        )
    if spec.base_max_size is not None and size > spec.base_max_size:
        return QuantizeRejection(
            rule="base_max_size",
            reason=f"size {_plain(size)} {unit} is above base_max_size "
            f"{_plain(spec.base_max_size)} for {symbol}",
        )
    limit: Decimal | None = None
    if intent.limit_price is not None:
        favour = ROUND_FLOOR if intent.side is Side.BUY else ROUND_CEILING
        limit = _round(intent.limit_price, spec.price_increment, favour)
        if limit <= 0:
            return QuantizeRejection(
                rule="price_increment",
                reason=f"limit {_plain(intent.limit_price)} rounds to 0 at price_increment "
                f"{_plain(spec.price_increment)} for {symbol}",
            )
    if intent.post_only and intent.time_in_force is TimeInForce.IOC:
        return QuantizeRejection(
            rule="post_only_ioc",
            reason=f"a post-only order must rest, but {intent.intent_id} is immediate-or-cancel",
        )
    price = limit if limit is not None else checked_mark
    notional = size * price * spec.contract_size
    if spec.min_notional is not None and notional < spec.min_notional:
        return QuantizeRejection(
            rule="min_notional",
            reason=f"notional {notional:,.2f} {_quote(spec)} is below min_notional "
            f"{_plain(spec.min_notional)} for {symbol}",
        )
    return Quantized(size=size, limit_price=limit, notional=notional)


def new_order(
    intent: OrderIntent, quantized: Quantized, spec: ProductSpec, client_order_id: str
) -> NewOrder:
    """The order to create for a quantized intent (leverage applies to futures only)."""
    return NewOrder(
        client_order_id=client_order_id,
        symbol=intent.symbol,
        side=intent.side,
        size=quantized.size,
        order_type=intent.order_type,
        time_in_force=intent.time_in_force,
        limit_price=quantized.limit_price if intent.order_type is OrderType.LIMIT else None,
        post_only=intent.post_only,
        leverage=intent.leverage if spec.is_future else None,
    )


def fitted_order(
    intent: OrderIntent, client_order_id: str, spec: ProductSpec, checked_mark: Decimal
) -> TrackedOrder | QuantizeRejection:
    """``intent`` fitted to ``spec`` as a new order (PENDING_SUBMIT) with its request."""
    fitted = quantize(intent, spec, checked_mark)
    if isinstance(fitted, QuantizeRejection):
        return fitted
    return TrackedOrder(
        intent_id=intent.intent_id,
        client_order_id=client_order_id,
        correlation_id=intent.message_id,
        symbol=intent.symbol,
        side=intent.side,
        purpose=intent.purpose,
        order_type=intent.order_type,
        size=fitted.size,
        limit_price=fitted.limit_price,
        contract_size=spec.contract_size,
        status=OrderStatus.PENDING_SUBMIT,
        intent=intent,
        request=new_order(intent, fitted, spec, client_order_id),
    )
