"""The engine's instruments, orders, fills, positions and account as the gateway shows them.

Linear USDC-settled perpetuals named ``{BASE}_USDC-PERPETUAL`` over the engine's perpetual
futures; ``amount`` is in the base coin (contracts x contract size), ``contracts`` in contract
units; timestamps in milliseconds; states and directions lowercase
(docs/venues/global-derivatives.md, 1.5 to 1.9 and 1.14). The engine's account is in USD; the
gateway reports it as USDC (an open point of the research doc).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from perpsbot.sim._accounts import SimPosition
from perpsbot.sim._orders import SimFill, SimOrder
from perpsbot.sim._products import SimProduct

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

SETTLEMENT = "USDC"
PERPETUAL_EXPIRY_MS = 32_503_708_800_000  # Deribit's "never" for a perpetual
_ZERO = Decimal(0)
_STATES = {
    "PENDING": "open",
    "OPEN": "open",
    "QUEUED": "open",
    "CANCEL_QUEUED": "open",
    "FILLED": "filled",
    "CANCELLED": "cancelled",
    "EXPIRED": "cancelled",
    "FAILED": "rejected",
}
_TIME_IN_FORCE = {
    "market_market_ioc": "immediate_or_cancel",
    "market_market_fok": "fill_or_kill",
    "sor_limit_ioc": "immediate_or_cancel",
    "limit_limit_gtc": "good_til_cancelled",
    "limit_limit_fok": "fill_or_kill",
}


def instrument_name(spec: SimProduct) -> str:
    return f"{spec.base_currency}_{SETTLEMENT}-PERPETUAL"


def instruments(engine: SimEngine) -> dict[str, SimProduct]:
    """The gateway's instruments by name: one per perpetual future of the engine."""
    return {instrument_name(s): s for s in engine.specs.values() if s.is_future}


def max_leverage(spec: SimProduct) -> int:
    """The most leverage the engine's margin allows at any time: 1 / its strictest initial
    margin rate (either side, either window), rounded down."""
    strictest = max(
        spec.margin_rate(side, intraday=intraday)
        for side in ("BUY", "SELL")
        for intraday in (True, False)
    )
    return max(1, int(1 / strictest))


def ms(ns: int) -> int:
    return ns // 1_000_000


@attrs.define(kw_only=True)
class GatewayOrder:
    """What the gateway adds to an engine order: its label and request flags."""

    label: str
    instrument: str
    order_type: str  # "limit" or "market", as asked
    reduce_only: bool
    cancel_reason: str = ""


def instrument_json(name: str, spec: SimProduct, engine: SimEngine) -> dict[str, Any]:
    return {
        "instrument_name": name,
        "kind": "future",
        "settlement_period": "perpetual",
        "instrument_type": "linear",
        "base_currency": spec.base_currency,
        "quote_currency": SETTLEMENT,
        "counter_currency": SETTLEMENT,
        "settlement_currency": SETTLEMENT,
        "tick_size": spec.price_increment,
        "tick_size_steps": [],
        "contract_size": spec.contract_size,
        "min_trade_amount": spec.contract_size * spec.base_min_size,
        "max_leverage": max_leverage(spec),
        "maker_commission": _ZERO,
        "taker_commission": _ZERO,
        "is_active": spec.product_id not in engine.trading_disabled,
        "state": "open",
        "creation_timestamp": 1_700_000_000_000,
        "expiration_timestamp": PERPETUAL_EXPIRY_MS,
        "price_index": f"{spec.base_currency.lower()}_usdc",
        "rfq": False,
    }


def order_json(order: SimOrder, extra: GatewayOrder) -> dict[str, Any]:
    size = order.base_size or _ZERO
    state = _STATES.get(order.status, "open")
    return {
        "order_id": order.order_id,
        "label": extra.label,
        "instrument_name": extra.instrument,
        "direction": order.side.lower(),
        "amount": size * order.contract_size,
        "contracts": size,
        "filled_amount": order.filled_size * order.contract_size,
        "price": order.limit_price if order.limit_price is not None else "market_price",
        "average_price": order.average_price,
        "order_state": state,
        # Coinbase's spec: a market order reads back as "limit" with original_order_type.
        "order_type": "limit",
        "original_order_type": "market" if extra.order_type == "market" else None,
        "time_in_force": _TIME_IN_FORCE.get(order.config_key, "good_til_cancelled"),
        "post_only": order.post_only,
        "reduce_only": extra.reduce_only,
        "creation_timestamp": ms(order.created_ns),
        "last_update_timestamp": ms(order.last_fill_ns or order.created_ns),
        "cancel_reason": extra.cancel_reason or ("user_request" if state == "cancelled" else None),
        "is_liquidation": False,
        "api": True,
        "web": False,
        "replaced": False,
        "mmp": False,
    }


def trade_json(fill: SimFill, order: SimOrder, extra: GatewayOrder, seq: int) -> dict[str, Any]:
    return {
        "trade_id": fill.trade_id,
        "trade_seq": seq,
        "order_id": fill.order_id,
        "label": extra.label,
        "instrument_name": extra.instrument,
        "direction": fill.side.lower(),
        "price": fill.price,
        "amount": fill.size * order.contract_size,
        "contracts": fill.size,
        "fee": fill.commission,
        "fee_currency": SETTLEMENT,
        "liquidity": "M" if fill.liquidity == "MAKER" else "T",
        "state": _STATES.get(order.status, "open"),
        "order_type": extra.order_type,
        "timestamp": ms(fill.time_ns),
        "tick_direction": 0,
        "post_only": order.post_only,
        "reduce_only": extra.reduce_only,
    }


def account_figures(engine: SimEngine) -> dict[str, Decimal]:
    """Balance, equity, margins and PnL of the account now, in the settlement currency."""
    summary = engine.balance_summary()
    window = summary.windows["intraday" if engine.intraday() else "overnight"]
    upnl = summary.numbers["unrealized_pnl"]
    cash = engine.futures.cash
    return {
        "balance": cash,
        "equity": cash + upnl,
        "margin_balance": cash + upnl,
        "available_funds": window["futures_buying_power"],
        "initial_margin": window["initial_margin"],
        "maintenance_margin": window["maintenance_margin"],
        "total_pl": upnl,
        "session_upl": upnl,
        "session_rpl": summary.numbers["daily_realized_pnl"],
    }


def account_json(engine: SimEngine) -> dict[str, Any]:
    figures = account_figures(engine)
    return {
        **figures,
        "currency": SETTLEMENT,
        "margin_model": "cross_sm",
        "cross_collateral_enabled": False,
        "portfolio_margining_enabled": False,
        "available_withdrawal_funds": max(_ZERO, figures["available_funds"]),
        "delta_total": _ZERO,
        "options_value": _ZERO,
        "futures_pl": figures["total_pl"],
        "futures_session_upl": figures["session_upl"],
        "futures_session_rpl": figures["session_rpl"],
    }


def position_json(engine: SimEngine, name: str, spec: SimProduct) -> dict[str, Any]:
    pos = engine.futures.positions.get(spec.product_id, SimPosition())
    mark = engine.markets[spec.product_id].mid
    index = engine.markets[spec.underlying].mid if spec.underlying else mark
    base = pos.contracts * spec.contract_size
    direction = "buy" if pos.contracts > 0 else "sell" if pos.contracts < 0 else "zero"
    rate = spec.margin_rate("BUY" if pos.contracts >= 0 else "SELL", intraday=engine.intraday())
    initial = abs(base) * mark * rate
    # The engine's unrealized PnL holds the funding accrued since the last settlement; the
    # gateway shows that funding apart, in the session's realized PnL (1.13).
    floating = engine.futures.unrealized(spec, mark) - pos.funding
    realized = pos.daily_realized + pos.funding
    return {
        "instrument_name": name,
        "kind": "future",
        "direction": direction,
        "size": base,
        "size_currency": base,
        "average_price": pos.avg_entry,
        "mark_price": mark,
        "index_price": index,
        "initial_margin": initial,
        "maintenance_margin": initial / 2,
        "floating_profit_loss": floating,
        "realized_profit_loss": realized,
        "total_profit_loss": floating + realized,
        "realized_funding": pos.funding,
        "estimated_liquidation_price": liquidation_price(engine, spec, base, mark),
        "leverage": max_leverage(spec) if base else 0,
        "settlement_price": mark,
    }


def liquidation_price(
    engine: SimEngine, spec: SimProduct, base: Decimal, mark: Decimal
) -> Decimal | None:
    """Where this position alone would eat the account's margin over maintenance: the mark
    moved against it by ``(margin_balance - maintenance_margin) / size``; None when flat."""
    if base == 0:
        return None
    figures = account_figures(engine)
    buffer = figures["margin_balance"] - figures["maintenance_margin"]
    price = mark - buffer / base
    return max(_ZERO, price.quantize(spec.price_increment))
