"""The product catalogue: static specs and their full Coinbase JSON payloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.sim._wire import dec, rfc3339_s

_D = Decimal
PERP_EXPIRY = "2030-12-20T16:00:00Z"
PERP_EXPIRY_NS = 1_924_012_800 * 10**9  # 2030-12-20T16:00:00Z


@attrs.frozen(kw_only=True)
class SimMarginRates:
    long: Decimal
    short: Decimal

    def for_side(self, side: str) -> Decimal:
        return self.long if side == "BUY" else self.short


@attrs.frozen(kw_only=True)
class SimProduct:
    """One tradable product and the parameters of its synthetic market."""

    product_id: str
    product_type: str  # SPOT or FUTURE
    base_currency: str
    quote_currency: str
    base_name: str
    display_name: str
    base_increment: Decimal
    quote_increment: Decimal
    price_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    quote_min_size: Decimal
    quote_max_size: Decimal
    start_price: Decimal
    level_spacing: Decimal  # distance between synthetic book levels
    level_size: Decimal  # mean size of a synthetic level, in base units (contracts for futures)
    contract_size: Decimal = Decimal(1)
    underlying: str = ""  # spot product a future tracks
    contract_code: str = ""
    intraday_margin: SimMarginRates | None = None
    overnight_margin: SimMarginRates | None = None

    @property
    def is_future(self) -> bool:
        return self.product_type == "FUTURE"

    def margin_rate(self, side: str, *, intraday: bool) -> Decimal:
        """The initial margin rate of a ``side`` (BUY: long) position in the intraday or the
        overnight window; 1 for a product without rates."""
        rates = self.intraday_margin if intraday else self.overnight_margin
        return Decimal(1) if rates is None else rates.for_side(side)


CATALOGUE: tuple[SimProduct, ...] = (
    SimProduct(
        product_id="BTC-USD",
        product_type="SPOT",
        base_currency="BTC",
        quote_currency="USD",
        base_name="Bitcoin",
        display_name="BTC-USD",
        base_increment=_D("0.00000001"),
        quote_increment=_D("0.01"),
        price_increment=_D("0.01"),
        base_min_size=_D("0.00000001"),
        base_max_size=_D("3400"),
        quote_min_size=_D("1"),
        quote_max_size=_D("150000000"),
        start_price=_D("68923.67"),
        level_spacing=_D("1.00"),
        level_size=_D("0.25"),
    ),
    SimProduct(
        product_id="ETH-USD",
        product_type="SPOT",
        base_currency="ETH",
        quote_currency="USD",
        base_name="Ethereum",
        display_name="ETH-USD",
        base_increment=_D("0.00000001"),
        quote_increment=_D("0.01"),
        price_increment=_D("0.01"),
        base_min_size=_D("0.00000001"),
        base_max_size=_D("28000"),
        quote_min_size=_D("1"),
        quote_max_size=_D("100000000"),
        start_price=_D("3512.40"),
        level_spacing=_D("0.10"),
        level_size=_D("3"),
    ),
    SimProduct(
        product_id="BIP-20DEC30-CDE",
        product_type="FUTURE",
        base_currency="BTC",
        quote_currency="USD",
        base_name="",
        display_name="BTC PERP",
        base_increment=_D("1"),
        quote_increment=_D("0.01"),
        price_increment=_D("5"),
        base_min_size=_D("1"),
        base_max_size=_D("5000"),
        quote_min_size=_D("0"),
        quote_max_size=_D("0"),
        start_price=_D("68930"),
        level_spacing=_D("5"),
        level_size=_D("40"),
        contract_size=_D("0.01"),
        underlying="BTC-USD",
        contract_code="BIP",
        intraday_margin=SimMarginRates(long=_D("0.1000185"), short=_D("0.1000008")),
        overnight_margin=SimMarginRates(long=_D("0.245625"), short=_D("0.306375")),
    ),
    SimProduct(
        product_id="ETP-20DEC30-CDE",
        product_type="FUTURE",
        base_currency="ETH",
        quote_currency="USD",
        base_name="",
        display_name="ETH PERP",
        base_increment=_D("1"),
        quote_increment=_D("0.01"),
        price_increment=_D("0.5"),
        base_min_size=_D("1"),
        base_max_size=_D("5000"),
        quote_min_size=_D("0"),
        quote_max_size=_D("0"),
        start_price=_D("3513.5"),
        level_spacing=_D("0.5"),
        level_size=_D("30"),
        contract_size=_D("0.1"),
        underlying="ETH-USD",
        contract_code="ETP",
        intraday_margin=SimMarginRates(long=_D("0.1000185"), short=_D("0.1000008")),
        overnight_margin=SimMarginRates(long=_D("0.25"), short=_D("0.30")),
    ),
)


@attrs.frozen(kw_only=True)
class ProductLive:
    """The moving numbers a product payload shows."""

    price: Decimal
    mid: Decimal
    index_price: Decimal
    volume_24h: Decimal
    price_change_24h_pct: Decimal
    funding_rate: Decimal
    funding_time_ns: int
    open_interest: Decimal
    now_ns: int
    trading_disabled: bool = False
    cancel_only: bool = False


def product_json(spec: SimProduct, live: ProductLive) -> dict[str, Any]:
    """The full ``GET /products/{id}`` payload of ``spec``."""
    body: dict[str, Any] = {
        "product_id": spec.product_id,
        "price": dec(live.price),
        "price_percentage_change_24h": dec(live.price_change_24h_pct),
        "volume_24h": dec(live.volume_24h),
        "volume_percentage_change_24h": "0",
        "base_increment": dec(spec.base_increment),
        "quote_increment": dec(spec.quote_increment),
        "quote_min_size": dec(spec.quote_min_size),
        "quote_max_size": dec(spec.quote_max_size),
        "base_min_size": dec(spec.base_min_size),
        "base_max_size": dec(spec.base_max_size),
        "base_name": spec.base_name,
        "quote_name": "US Dollar",
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "" if spec.is_future else "online",
        "cancel_only": live.cancel_only,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": live.trading_disabled,
        "auction_mode": False,
        "product_type": spec.product_type,
        "quote_currency_id": spec.quote_currency,
        "base_currency_id": "" if spec.is_future else spec.base_currency,
        "fcm_trading_session_details": None,
        "mid_market_price": dec(live.mid) if spec.is_future else "",
        "alias": "",
        "alias_to": [] if spec.is_future else [f"{spec.base_currency}-USDC"],
        "base_display_symbol": "" if spec.is_future else spec.base_currency,
        "quote_display_symbol": spec.quote_currency,
        "view_only": False,
        "price_increment": dec(spec.price_increment),
        "display_name": spec.display_name,
        "product_venue": "FCM" if spec.is_future else "CBE",
        "approximate_quote_24h_volume": dec((live.volume_24h * live.price).quantize(_D("0.01"))),
        "new_at": "2023-01-01T00:00:00Z",
    }
    if spec.is_future:
        body["fcm_trading_session_details"] = _session(live.now_ns)
        body["future_product_details"] = _future_details(spec, live)
    return body


def _session(now_ns: int) -> dict[str, Any]:
    day_ns = 86_400 * 10**9
    open_ns = (now_ns // day_ns) * day_ns - 3 * 3600 * 10**9
    return {
        "is_session_open": True,
        "open_time": rfc3339_s(open_ns),
        "close_time": rfc3339_s(open_ns + day_ns),
        "session_state": "FCM_TRADING_SESSION_STATE_OPEN",
        "after_hours_order_entry_disabled": False,
        "closed_reason": "FCM_TRADING_SESSION_CLOSED_REASON_EXCHANGE_MAINTENANCE",
        "maintenance": {"start_time": "2030-01-01T14:00:00Z", "end_time": "2030-01-01T17:00:00Z"},
    }


def _future_details(spec: SimProduct, live: ProductLive) -> dict[str, Any]:
    assert spec.intraday_margin is not None
    assert spec.overnight_margin is not None
    root = spec.base_currency
    return {
        "venue": "cde",
        "contract_code": spec.contract_code,
        "contract_expiry": PERP_EXPIRY,
        "contract_size": dec(spec.contract_size),
        "contract_root_unit": root,
        "group_description": f"nano {root} Perp Futures",
        "contract_expiry_timezone": "Europe/London",
        "group_short_description": f"nano {root} Perp",
        "risk_managed_by": "MANAGED_BY_FCM",
        "contract_expiry_type": "EXPIRING",
        "perpetual_details": {
            "open_interest": dec(live.open_interest),
            "funding_rate": "",
            "funding_time": None,
            "max_leverage": "",
            "base_asset_uuid": "",
            "underlying_type": "",
        },
        "contract_display_name": spec.display_name,
        "time_to_expiry_ms": str(max(0, (PERP_EXPIRY_NS - live.now_ns) // 10**6)),
        "non_crypto": False,
        "contract_expiry_name": "2030-12",
        "twenty_four_by_seven": True,
        "funding_interval": "3600s",
        "open_interest": dec(live.open_interest),
        "funding_rate": dec(live.funding_rate),
        "funding_time": rfc3339_s(live.funding_time_ns),
        "display_name": f"{root} Perpetual",
        "intraday_margin_rate": {
            "long_margin_rate": dec(spec.intraday_margin.long),
            "short_margin_rate": dec(spec.intraday_margin.short),
        },
        "overnight_margin_rate": {
            "long_margin_rate": dec(spec.overnight_margin.long),
            "short_margin_rate": dec(spec.overnight_margin.short),
        },
        "settlement_price": dec(live.price),
        "futures_asset_type": "FUTURES_ASSET_TYPE_CRYPTO",
        "index_price": dec(live.index_price),
    }
