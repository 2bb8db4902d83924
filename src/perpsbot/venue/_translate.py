"""Advanced Trade's records in the gateway's terms, and the gateway's orders in Advanced
Trade's: pure functions, one per record."""

from __future__ import annotations

from decimal import Decimal

from perpsbot.errors import VenueResponseError
from perpsbot.messages import (
    FuturesAccount,
    MarginRates,
    OrderType,
    ProductSpec,
    Side,
    TimeInForce,
)
from perpsbot.venue.gateway import CancelOutcome, NewOrder, VenueFill, VenueOrder
from perpsbot.venue.orders import (
    LimitGtc,
    LimitIoc,
    MarketIoc,
    OrderConfiguration,
    OrderRequest,
    OrderSide,
)
from perpsbot.venue.records import (
    CancelResult,
    CfmBalanceSummary,
    CfmPosition,
    FillRecord,
    FutureDetails,
    OrderRecord,
    Product,
)

_CENTS = Decimal("0.01")

__all__ = [
    "accrued_funding",
    "cancel_outcome",
    "futures_account",
    "order_request",
    "product_spec",
    "venue_fill",
    "venue_order",
]


def product_spec(product: Product) -> ProductSpec:
    """The order-relevant part of a catalogue product."""
    future = product.future
    return ProductSpec(
        symbol=product.product_id,
        is_future=future is not None,
        contract_size=future.contract_size if future is not None else Decimal(1),
        base_increment=product.base_increment,
        price_increment=product.price_increment,
        base_min_size=product.base_min_size,
        min_notional=product.quote_min_size or None,
        max_leverage=future.max_leverage if future is not None else None,
        tradable=not (product.trading_disabled or product.cancel_only),
        base_max_size=product.base_max_size or None,
        margin_rates=_margin_rates(future) if future is not None else None,
    )


def _margin_rates(future: FutureDetails) -> MarginRates | None:
    """The four rates if the catalogue gives them all, else None."""
    il, ish = future.intraday_long_margin_rate, future.intraday_short_margin_rate
    ol, osh = future.overnight_long_margin_rate, future.overnight_short_margin_rate
    if il is None or ish is None or ol is None or osh is None:
        return None
    if min(il, ish, ol, osh) <= 0:
        return None
    return MarginRates(intraday_long=il, intraday_short=ish, overnight_long=ol, overnight_short=osh)


def order_request(order: NewOrder) -> OrderRequest:
    """The ``POST /orders`` request for ``order``: a market order is ``market_market_ioc``, a
    limit order ``sor_limit_ioc`` (IOC) or ``limit_limit_gtc`` (GTC, post-only or not)."""
    configuration: OrderConfiguration
    if order.order_type is OrderType.MARKET:
        configuration = MarketIoc(base_size=order.size)
    else:
        assert order.limit_price is not None  # NewOrder guarantees a LIMIT has one
        if order.time_in_force is TimeInForce.IOC:
            configuration = LimitIoc(base_size=order.size, limit_price=order.limit_price)
        else:
            configuration = LimitGtc(
                base_size=order.size, limit_price=order.limit_price, post_only=order.post_only
            )
    return OrderRequest(
        client_order_id=order.client_order_id,
        product_id=order.symbol,
        side=OrderSide(order.side.value),
        configuration=configuration,
        leverage=order.leverage,
    )


def _side(word: str) -> Side | None:
    return Side(word) if word in ("BUY", "SELL") else None


def venue_order(order: OrderRecord) -> VenueOrder:
    """An order of ``/orders/historical``; its status words are the gateway's already.

    Raises:
        VenueResponseError: its side is neither ``BUY`` nor ``SELL``.
    """
    side = _side(order.side)
    if side is None:
        raise VenueResponseError(
            f"order {order.order_id} ({order.client_order_id}): side must be BUY or SELL, "
            f"was {order.side!r}"
        )
    return VenueOrder(
        venue_order_id=order.order_id,
        client_order_id=order.client_order_id,
        symbol=order.product_id,
        side=side,
        status=order.status,
        size=order.base_size,
        limit_price=order.limit_price,
        filled_size=order.filled_size,
        average_price=order.average_filled_price,
    )


def venue_fill(fill: FillRecord) -> VenueFill:
    """A fill of ``/orders/historical/fills``, identified by its entry id (or trade id)."""
    return VenueFill(
        fill_id=fill.entry_id or fill.trade_id,
        venue_order_id=fill.order_id,
        side=_side(fill.side),
        price=fill.price,
        size=fill.size,
        fee=fill.commission,
        liquidity=fill.liquidity_indicator,
        ts_ns=fill.ts_trade_ns,
    )


def cancel_outcome(result: CancelResult) -> CancelOutcome:
    return CancelOutcome(
        venue_order_id=result.order_id, cancelled=result.success, reason=result.failure_reason
    )


def futures_account(summary: CfmBalanceSummary) -> FuturesAccount:
    """The futures account's margin from the venue's balance summary.

    Its buffer share (:attr:`FuturesAccount.buffer_share`, what
    ``risk.min_liquidation_buffer_pct`` bounds) is ``buffer / (buffer + threshold)``: the share
    of the futures account's own equity above its liquidation threshold. Not the venue's
    ``liquidation_buffer_percentage``: that is a percentage of the maintenance margin (1000
    and more while little is held), so read as a share it never came near the minimum and the
    liquidation buffer rule could not deny anything. The maintenance share (threshold over
    initial margin) is known only while the account holds margin.
    """
    threshold, initial = summary.liquidation_threshold, summary.initial_margin
    return FuturesAccount(
        buffer=summary.liquidation_buffer_amount,
        threshold=threshold,
        maintenance_share=threshold / initial if threshold > 0 and initial > 0 else None,
    )


def accrued_funding(position: CfmPosition, spec: ProductSpec) -> Decimal | None:
    """The funding the venue accrued on ``position`` and has not settled: what its unrealized
    PnL holds beyond the price's move, ``unrealized_pnl - (current_price - avg_entry_price) x
    contracts x contract_size``, the move rounded to the cent as the venue rounds its figures
    (a venue that rounds the sum instead makes this a cent off where the move ends in half a
    cent). None if the venue left out a figure it needs.

    Coinbase lists no funding payments for CFM futures and no field of accrued funding; it
    charges the position's funding in its unrealized PnL until the settlement (the reading
    ``docs/venues/coinbase-cfm.md`` takes). Where the venue's unrealized PnL holds nothing
    but the price's move, this is 0.
    """
    upnl, price, entry = position.unrealized_pnl, position.current_price, position.avg_entry_price
    if upnl is None or price is None or entry is None:
        return None
    moved = ((price - entry) * position.signed_contracts * spec.contract_size).quantize(_CENTS)
    return (upnl - moved).quantize(_CENTS)
