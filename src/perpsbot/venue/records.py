"""REST response records: frozen attrs classes with ``Decimal`` money and nanosecond times."""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.venue.frames import BookSide, MarketTrade

__all__ = [
    "Account",
    "BestBidAsk",
    "CancelResult",
    "Candle",
    "CfmBalanceSummary",
    "CfmPosition",
    "CreatedOrder",
    "FeeTier",
    "FillRecord",
    "FutureDetails",
    "MarketTicker",
    "OrderPreview",
    "OrderRecord",
    "Product",
    "ProductBook",
    "ServerTime",
    "TransactionSummary",
]


@attrs.frozen(kw_only=True)
class ServerTime:
    """The venue's clock (``GET /time``)."""

    ts_ns: int


@attrs.frozen(kw_only=True)
class FutureDetails:
    """The futures part of a product: contract size, expiry, funding and margin rates.

    Funding is read from the top level of ``future_product_details`` (CFM perp-style) and
    falls back to ``perpetual_details`` (INTX). ``funding_interval_s`` is None for dated futures.
    """

    contract_size: Decimal
    contract_root_unit: str
    contract_expiry_type: str
    contract_expiry_ns: int | None
    funding_rate: Decimal | None
    funding_time_ns: int | None
    funding_interval_s: int | None
    open_interest: Decimal | None
    index_price: Decimal | None
    intraday_long_margin_rate: Decimal | None
    intraday_short_margin_rate: Decimal | None
    overnight_long_margin_rate: Decimal | None
    overnight_short_margin_rate: Decimal | None
    max_leverage: Decimal | None


@attrs.frozen(kw_only=True)
class Product:
    """A tradable product with the increments and limits orders must respect.

    For futures, sizes are whole contracts and ``price_increment`` is the real tick.
    """

    product_id: str
    product_type: str
    display_name: str
    status: str
    price: Decimal | None
    base_increment: Decimal
    quote_increment: Decimal
    price_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    quote_min_size: Decimal | None
    quote_max_size: Decimal | None
    trading_disabled: bool
    cancel_only: bool
    limit_only: bool
    post_only: bool
    future: FutureDetails | None

    @property
    def is_perpetual(self) -> bool:
        """True for perp-style futures (hourly funding), which report ``EXPIRING`` expiry."""
        future = self.future
        if future is None:
            return False
        return (
            future.funding_interval_s is not None
            or future.contract_expiry_type == "PERPETUAL"
            or "PERP" in self.display_name.upper()
        )


@attrs.frozen(kw_only=True)
class ProductBook:
    """A REST order book snapshot, best levels first."""

    product_id: str
    bids: BookSide
    asks: BookSide
    ts_ns: int | None
    mid_market: Decimal | None = None


@attrs.frozen(kw_only=True)
class BestBidAsk:
    """The top of one product's book (``GET /best_bid_ask``); None for an empty side."""

    product_id: str
    bid: Decimal | None
    bid_size: Decimal | None
    ask: Decimal | None
    ask_size: Decimal | None
    ts_ns: int | None

    @property
    def mid(self) -> Decimal | None:
        """The mid price, or None unless both sides are present."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


@attrs.frozen(kw_only=True)
class MarketTicker:
    """Recent public trades plus the best bid and ask (``GET .../ticker``)."""

    product_id: str
    trades: tuple[MarketTrade, ...]
    best_bid: Decimal | None
    best_ask: Decimal | None


@attrs.frozen(kw_only=True)
class Candle:
    """One OHLCV bucket; ``start_s`` is Unix seconds."""

    start_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@attrs.frozen(kw_only=True)
class Account:
    """One wallet: available and held balance in its currency."""

    uuid: str
    name: str
    currency: str
    available: Decimal
    hold: Decimal
    type: str
    platform: str
    active: bool


@attrs.frozen(kw_only=True)
class CfmBalanceSummary:
    """The US futures (CFM) balance summary, all amounts in USD."""

    futures_buying_power: Decimal
    total_usd_balance: Decimal
    cbi_usd_balance: Decimal
    cfm_usd_balance: Decimal
    total_open_orders_hold_amount: Decimal
    unrealized_pnl: Decimal
    daily_realized_pnl: Decimal
    initial_margin: Decimal
    available_margin: Decimal
    liquidation_threshold: Decimal
    liquidation_buffer_amount: Decimal
    liquidation_buffer_percentage: Decimal | None


@attrs.frozen(kw_only=True)
class CfmPosition:
    """A US futures position; ``number_of_contracts`` is unsigned, ``side`` LONG or SHORT."""

    product_id: str
    side: str
    number_of_contracts: Decimal
    current_price: Decimal | None
    avg_entry_price: Decimal | None
    unrealized_pnl: Decimal | None
    daily_realized_pnl: Decimal | None
    expiration_ns: int | None

    @property
    def signed_contracts(self) -> Decimal:
        """Contracts, negative for a short."""
        return -self.number_of_contracts if self.side == "SHORT" else self.number_of_contracts


@attrs.frozen(kw_only=True)
class FeeTier:
    """The pricing tier the account's volume earns; rates are fractions (0.006 is 0.6 %)."""

    pricing_tier: str
    usd_from: Decimal | None
    usd_to: Decimal | None
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal


@attrs.frozen(kw_only=True)
class TransactionSummary:
    """Trading volume and fees in USD over the venue's rolling window, and the fee tier."""

    total_volume: Decimal
    total_fees: Decimal
    fee_tier: FeeTier


@attrs.frozen(kw_only=True)
class CreatedOrder:
    """The venue accepted an order (``success: true``)."""

    order_id: str
    client_order_id: str
    product_id: str
    side: str


@attrs.frozen(kw_only=True)
class OrderPreview:
    """What an order would cost; ``errs`` lists ``PREVIEW_*`` problems (empty when clean)."""

    preview_id: str
    order_total: Decimal | None
    commission_total: Decimal | None
    base_size: Decimal | None
    quote_size: Decimal | None
    best_bid: Decimal | None
    best_ask: Decimal | None
    leverage: Decimal | None
    order_margin_total: Decimal | None
    est_average_filled_price: Decimal | None
    errs: tuple[str, ...]
    warnings: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CancelResult:
    """The outcome of cancelling one order."""

    order_id: str
    success: bool
    failure_reason: str


@attrs.frozen(kw_only=True)
class OrderRecord:
    """An order as ``/orders/historical`` reports it; size and price from its configuration."""

    order_id: str
    client_order_id: str
    product_id: str
    side: str
    status: str
    order_type: str
    time_in_force: str
    configuration: str
    base_size: Decimal | None
    quote_size: Decimal | None
    limit_price: Decimal | None
    post_only: bool
    filled_size: Decimal
    average_filled_price: Decimal | None
    total_fees: Decimal
    number_of_fills: int
    ts_created_ns: int | None
    leverage: Decimal | None
    margin_type: str
    reject_reason: str


@attrs.frozen(kw_only=True)
class FillRecord:
    """One execution of one of our orders."""

    entry_id: str
    trade_id: str
    order_id: str
    product_id: str
    side: str
    price: Decimal
    size: Decimal
    commission: Decimal
    liquidity_indicator: str
    ts_trade_ns: int | None
