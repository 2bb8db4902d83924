"""REST JSON bodies to records. Lenient about extra fields, strict about the ones we use.

Every problem raises :class:`~perpsbot.errors.VenueResponseError` naming the field, the
expected and the found. Money accepts a decimal string or an Amount object ``{"value": ...}``.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from perpsbot.errors import VenueResponseError
from perpsbot.venue.frames import BookSide, MarketTrade
from perpsbot.venue.records import (
    Account,
    BestBidAsk,
    CancelResult,
    Candle,
    CfmBalanceSummary,
    CfmPosition,
    FeeTier,
    FillRecord,
    FutureDetails,
    MarketTicker,
    OrderPreview,
    OrderRecord,
    Product,
    ProductBook,
    TransactionSummary,
)
from perpsbot.venue.timestamps import parse_rfc3339_ns

_UNSET_TIME_PREFIX = "0001-01-01"


def bad(where: str, expected: str, found: object) -> VenueResponseError:
    shown = repr(found)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    return VenueResponseError(f"{where} must be {expected}, found {shown}")


def obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(where, "an object", value)
    return value


def items(body: dict[str, Any], key: str, where: str) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{where}.{key}", "a list", value)
    return value


def text(body: dict[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = body.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise bad(f"{where}.{key}", "a string", value)
    return value


def _decimal(value: object) -> Decimal | None:
    """A finite Decimal of a non-empty decimal string; None for anything else."""
    if type(value) is not str or not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def opt_dec(body: dict[str, Any], key: str, where: str) -> Decimal | None:
    value = body.get(key)
    if type(value) is not str or not value:  # the usual is a decimal string
        if isinstance(value, dict):  # an Amount object
            value = value.get("value")
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad(f"{where}.{key}", "a decimal string", value)
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise bad(f"{where}.{key}", "a decimal string", value) from None
    if not number.is_finite():
        raise bad(f"{where}.{key}", "a finite decimal", value)
    return number


def dec(body: dict[str, Any], key: str, where: str) -> Decimal:
    number = opt_dec(body, key, where)
    if number is None:
        raise bad(f"{where}.{key}", "a decimal string", body.get(key, "nothing"))
    return number


def dec_or_zero(body: dict[str, Any], key: str, where: str) -> Decimal:
    number = opt_dec(body, key, where)
    return Decimal(0) if number is None else number


def opt_time_ns(body: dict[str, Any], key: str, where: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad(f"{where}.{key}", "an RFC 3339 timestamp", value)
    if value.startswith(_UNSET_TIME_PREFIX):
        return None
    try:
        return parse_rfc3339_ns(value)
    except (ValueError, IndexError):
        raise bad(f"{where}.{key}", "an RFC 3339 timestamp", value) from None


def integer(body: dict[str, Any], key: str, where: str, default: int = 0) -> int:
    value = body.get(key, default)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise bad(f"{where}.{key}", "an integer", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"{where}.{key}", "an integer", value) from None


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return value is True or value == "true"


def book_side(levels: list[Any], where: str) -> BookSide:
    out = []
    for i, level in enumerate(levels):
        if type(level) is dict:  # the usual: decimal strings, read without naming the level
            price, size = _decimal(level.get("price")), _decimal(level.get("size"))
            if price is not None and size is not None:
                out.append((price, size))
                continue
        entry = obj(level, f"{where}[{i}]")
        out.append((dec(entry, "price", f"{where}[{i}]"), dec(entry, "size", f"{where}[{i}]")))
    return tuple(out)


def future_details(body: dict[str, Any], where: str) -> FutureDetails:
    perp = body.get("perpetual_details") or {}
    perp = perp if isinstance(perp, dict) else {}
    intraday = body.get("intraday_margin_rate") or {}
    overnight = body.get("overnight_margin_rate") or {}
    interval = body.get("funding_interval")
    interval_s = None
    if isinstance(interval, str) and interval.endswith("s") and interval[:-1].isdigit():
        interval_s = int(interval[:-1])
    funding_rate = opt_dec(body, "funding_rate", where)
    if funding_rate is None:
        funding_rate = opt_dec(perp, "funding_rate", f"{where}.perpetual_details")
    funding_time = opt_time_ns(body, "funding_time", where)
    if funding_time is None:
        funding_time = opt_time_ns(perp, "funding_time", f"{where}.perpetual_details")
    return FutureDetails(
        contract_size=dec(body, "contract_size", where),
        contract_root_unit=text(body, "contract_root_unit", where, default=""),
        contract_expiry_type=text(body, "contract_expiry_type", where, default=""),
        contract_expiry_ns=opt_time_ns(body, "contract_expiry", where),
        funding_rate=funding_rate,
        funding_time_ns=funding_time,
        funding_interval_s=interval_s,
        open_interest=opt_dec(body, "open_interest", where),
        index_price=opt_dec(body, "index_price", where),
        intraday_long_margin_rate=opt_dec(intraday, "long_margin_rate", where),
        intraday_short_margin_rate=opt_dec(intraday, "short_margin_rate", where),
        overnight_long_margin_rate=opt_dec(overnight, "long_margin_rate", where),
        overnight_short_margin_rate=opt_dec(overnight, "short_margin_rate", where),
        max_leverage=opt_dec(perp, "max_leverage", f"{where}.perpetual_details"),
    )


def product(body: dict[str, Any]) -> Product:
    where = f"product[{body.get('product_id')!r}]"
    details = body.get("future_product_details")
    quote_increment = dec(body, "quote_increment", where)
    return Product(
        product_id=text(body, "product_id", where),
        product_type=text(body, "product_type", where, default="UNKNOWN_PRODUCT_TYPE"),
        display_name=text(body, "display_name", where, default=""),
        status=text(body, "status", where, default=""),
        price=opt_dec(body, "price", where),
        base_increment=dec(body, "base_increment", where),
        quote_increment=quote_increment,
        price_increment=opt_dec(body, "price_increment", where) or quote_increment,
        base_min_size=dec(body, "base_min_size", where),
        base_max_size=dec(body, "base_max_size", where),
        quote_min_size=opt_dec(body, "quote_min_size", where),
        quote_max_size=opt_dec(body, "quote_max_size", where),
        trading_disabled=flag(body, "trading_disabled"),
        cancel_only=flag(body, "cancel_only"),
        limit_only=flag(body, "limit_only"),
        post_only=flag(body, "post_only"),
        future=(
            future_details(details, f"{where}.future_product_details")
            if isinstance(details, dict) and details.get("contract_size") not in (None, "")
            else None
        ),
    )


def product_book(body: dict[str, Any], where: str) -> ProductBook:
    return ProductBook(
        product_id=text(body, "product_id", where),
        bids=book_side(items(body, "bids", where), f"{where}.bids"),
        asks=book_side(items(body, "asks", where), f"{where}.asks"),
        ts_ns=opt_time_ns(body, "time", where),
    )


def best_bid_ask(body: dict[str, Any], where: str) -> BestBidAsk:
    """The top of a book read as :func:`product_book` reads it (every level checked)."""
    product_id = text(body, "product_id", where)
    bids = book_side(items(body, "bids", where), f"{where}.bids")
    asks = book_side(items(body, "asks", where), f"{where}.asks")
    bid = bids[0] if bids else (None, None)
    ask = asks[0] if asks else (None, None)
    return BestBidAsk(
        product_id=product_id,
        bid=bid[0],
        bid_size=bid[1],
        ask=ask[0],
        ask_size=ask[1],
        ts_ns=opt_time_ns(body, "time", where),
    )


def trade(body: dict[str, Any], where: str) -> MarketTrade:
    return MarketTrade(
        trade_id=text(body, "trade_id", where),
        product_id=text(body, "product_id", where),
        price=dec(body, "price", where),
        size=dec(body, "size", where),
        side=text(body, "side", where, default=""),
        ts_trade_ns=opt_time_ns(body, "time", where) or 0,
    )


def market_ticker(body: dict[str, Any], product_id: str) -> MarketTicker:
    where = "ticker"
    trades = tuple(
        trade(obj(t, f"{where}.trades[{i}]"), f"{where}.trades[{i}]")
        for i, t in enumerate(items(body, "trades", where))
    )
    return MarketTicker(
        product_id=product_id,
        trades=trades,
        best_bid=opt_dec(body, "best_bid", where),
        best_ask=opt_dec(body, "best_ask", where),
    )


def candle(body: dict[str, Any], where: str) -> Candle:
    return Candle(
        start_s=integer(body, "start", where),
        open=dec(body, "open", where),
        high=dec(body, "high", where),
        low=dec(body, "low", where),
        close=dec(body, "close", where),
        volume=dec(body, "volume", where),
    )


def account(body: dict[str, Any], where: str) -> Account:
    return Account(
        uuid=text(body, "uuid", where),
        name=text(body, "name", where, default=""),
        currency=text(body, "currency", where),
        available=dec_or_zero(body, "available_balance", where),
        hold=dec_or_zero(body, "hold", where),
        type=text(body, "type", where, default=""),
        platform=text(body, "platform", where, default=""),
        active=body.get("active", True) is not False,
    )


def balance_summary(body: dict[str, Any]) -> CfmBalanceSummary:
    where = "balance_summary"
    return CfmBalanceSummary(
        futures_buying_power=dec_or_zero(body, "futures_buying_power", where),
        total_usd_balance=dec_or_zero(body, "total_usd_balance", where),
        cbi_usd_balance=dec_or_zero(body, "cbi_usd_balance", where),
        cfm_usd_balance=dec_or_zero(body, "cfm_usd_balance", where),
        total_open_orders_hold_amount=dec_or_zero(body, "total_open_orders_hold_amount", where),
        unrealized_pnl=dec_or_zero(body, "unrealized_pnl", where),
        daily_realized_pnl=dec_or_zero(body, "daily_realized_pnl", where),
        initial_margin=dec_or_zero(body, "initial_margin", where),
        available_margin=dec_or_zero(body, "available_margin", where),
        liquidation_threshold=dec_or_zero(body, "liquidation_threshold", where),
        liquidation_buffer_amount=dec_or_zero(body, "liquidation_buffer_amount", where),
        liquidation_buffer_percentage=opt_dec(body, "liquidation_buffer_percentage", where),
    )


def position(body: dict[str, Any], where: str) -> CfmPosition:
    return CfmPosition(
        product_id=text(body, "product_id", where),
        side=text(body, "side", where, default="UNKNOWN").upper(),
        number_of_contracts=dec_or_zero(body, "number_of_contracts", where),
        current_price=opt_dec(body, "current_price", where),
        avg_entry_price=opt_dec(body, "avg_entry_price", where),
        unrealized_pnl=opt_dec(body, "unrealized_pnl", where),
        daily_realized_pnl=opt_dec(body, "daily_realized_pnl", where),
        expiration_ns=opt_time_ns(body, "expiration_time", where),
    )


def _json_number(body: dict[str, Any], key: str, where: str) -> Decimal:
    """A figure sent as a JSON number (or a decimal string); missing is zero."""
    value = body.get(key)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return dec_or_zero(body, key, where)


def transaction_summary(body: dict[str, Any]) -> TransactionSummary:
    where = "transaction_summary"
    tier = obj(body.get("fee_tier"), f"{where}.fee_tier")
    return TransactionSummary(
        total_volume=_json_number(body, "total_volume", where),
        total_fees=_json_number(body, "total_fees", where),
        fee_tier=FeeTier(
            pricing_tier=text(tier, "pricing_tier", f"{where}.fee_tier", default=""),
            usd_from=opt_dec(tier, "usd_from", f"{where}.fee_tier"),
            usd_to=opt_dec(tier, "usd_to", f"{where}.fee_tier"),
            maker_fee_rate=dec(tier, "maker_fee_rate", f"{where}.fee_tier"),
            taker_fee_rate=dec(tier, "taker_fee_rate", f"{where}.fee_tier"),
        ),
    )


def preview(body: dict[str, Any]) -> OrderPreview:
    where = "preview"
    return OrderPreview(
        preview_id=text(body, "preview_id", where, default=""),
        order_total=opt_dec(body, "order_total", where),
        commission_total=opt_dec(body, "commission_total", where),
        base_size=opt_dec(body, "base_size", where),
        quote_size=opt_dec(body, "quote_size", where),
        best_bid=opt_dec(body, "best_bid", where),
        best_ask=opt_dec(body, "best_ask", where),
        leverage=opt_dec(body, "leverage", where),
        order_margin_total=opt_dec(body, "order_margin_total", where),
        est_average_filled_price=opt_dec(body, "est_average_filled_price", where),
        errs=tuple(str(e) for e in items(body, "errs", where)),
        warnings=tuple(str(w) for w in items(body, "warning", where)),
    )


def cancel_result(body: dict[str, Any], where: str) -> CancelResult:
    return CancelResult(
        order_id=text(body, "order_id", where),
        success=body.get("success") is True,
        failure_reason=text(body, "failure_reason", where, default=""),
    )


def order(body: dict[str, Any], where: str) -> OrderRecord:
    config = body.get("order_configuration") or {}
    config = config if isinstance(config, dict) else {}
    kind, params = next(iter(config.items()), ("", {}))
    params = params if isinstance(params, dict) else {}
    at = f"{where}.order_configuration.{kind}"
    return OrderRecord(
        order_id=text(body, "order_id", where),
        client_order_id=text(body, "client_order_id", where, default=""),
        product_id=text(body, "product_id", where),
        side=text(body, "side", where, default=""),
        status=text(body, "status", where, default="UNKNOWN_ORDER_STATUS"),
        order_type=text(body, "order_type", where, default="").upper(),
        time_in_force=text(body, "time_in_force", where, default=""),
        configuration=kind,
        base_size=opt_dec(params, "base_size", at),
        quote_size=opt_dec(params, "quote_size", at),
        limit_price=opt_dec(params, "limit_price", at),
        post_only=flag(params, "post_only"),
        filled_size=dec_or_zero(body, "filled_size", where),
        average_filled_price=opt_dec(body, "average_filled_price", where),
        total_fees=dec_or_zero(body, "total_fees", where),
        number_of_fills=integer(body, "number_of_fills", where),
        ts_created_ns=opt_time_ns(body, "created_time", where),
        leverage=opt_dec(body, "leverage", where),
        margin_type=text(body, "margin_type", where, default=""),
        reject_reason=text(body, "reject_reason", where, default=""),
    )


def fill(body: dict[str, Any], where: str) -> FillRecord:
    return FillRecord(
        entry_id=text(body, "entry_id", where, default=""),
        trade_id=text(body, "trade_id", where, default=""),
        order_id=text(body, "order_id", where),
        product_id=text(body, "product_id", where),
        side=text(body, "side", where, default=""),
        price=dec(body, "price", where),
        size=dec(body, "size", where),
        commission=dec_or_zero(body, "commission", where),
        liquidity_indicator=text(body, "liquidity_indicator", where, default=""),
        ts_trade_ns=opt_time_ns(body, "trade_time", where),
    )
