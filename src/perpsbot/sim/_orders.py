"""Orders and fills as the sim keeps them, and their REST and websocket JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.sim._accounts import PORTFOLIO_ID, USER_ID
from perpsbot.sim._wire import UNSET_TIME, dec, rfc3339_us

OPEN_STATES = frozenset({"PENDING", "OPEN", "QUEUED"})
TIME_IN_FORCE = {
    "market_market_ioc": "IMMEDIATE_OR_CANCEL",
    "market_market_fok": "FILL_OR_KILL",
    "sor_limit_ioc": "IMMEDIATE_OR_CANCEL",
    "limit_limit_gtc": "GOOD_UNTIL_CANCELLED",
    "limit_limit_gtd": "GOOD_UNTIL_DATE_TIME",
    "limit_limit_fok": "FILL_OR_KILL",
    "stop_limit_stop_limit_gtc": "GOOD_UNTIL_CANCELLED",
    "stop_limit_stop_limit_gtd": "GOOD_UNTIL_DATE_TIME",
}


@attrs.define(kw_only=True)
class SimOrder:
    """One order and its running totals; only the engine mutates it, under its lock."""

    order_id: str
    client_order_id: str
    product_id: str
    product_type: str
    side: str
    config_key: str
    configuration: dict[str, Any]
    base_size: Decimal | None
    quote_size: Decimal | None
    limit_price: Decimal | None
    post_only: bool
    end_time_ns: int | None
    created_ns: int
    leverage: str
    margin_type: str
    contract_size: Decimal
    status: str = "PENDING"
    filled_size: Decimal = Decimal(0)
    price_size_sum: Decimal = Decimal(0)
    total_fees: Decimal = Decimal(0)
    number_of_fills: int = 0
    last_fill_ns: int | None = None
    hold: Decimal = Decimal(0)
    cancel_message: str = ""
    visible_after_mono: float = 0.0
    stop_price: Decimal | None = None
    stop_direction: str = ""
    triggered: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_limit(self) -> bool:
        return self.limit_price is not None

    @property
    def time_in_force(self) -> str:
        return TIME_IN_FORCE[self.config_key]

    @property
    def order_type(self) -> str:
        if self.config_key.startswith("stop_limit"):
            return "STOP_LIMIT"
        return "MARKET" if self.config_key.startswith("market") else "LIMIT"

    @property
    def is_pending_stop(self) -> bool:
        """A stop order whose stop price the last trade has not crossed yet."""
        return self.stop_price is not None and not self.triggered

    @property
    def trigger_status(self) -> str:
        if self.stop_price is None:
            return "INVALID_ORDER_TYPE"
        return "STOP_TRIGGERED" if self.triggered else "STOP_PENDING"

    @property
    def remaining(self) -> Decimal:
        if self.base_size is None:
            return Decimal(0)
        return self.base_size - self.filled_size

    @property
    def average_price(self) -> Decimal:
        if self.filled_size == 0:
            return Decimal(0)
        return (self.price_size_sum / self.filled_size).quantize(Decimal("0.0000000001"))

    @property
    def filled_value(self) -> Decimal:
        return self.price_size_sum * self.contract_size

    @property
    def completion_pct(self) -> Decimal:
        if self.base_size:
            total = self.base_size
        elif self.filled_size:
            total = self.filled_size
        else:
            return Decimal(0)
        return (self.filled_size * 100 / total).quantize(Decimal("0.01"))

    def value_after_fees(self) -> Decimal:
        if self.side == "BUY":
            return self.filled_value + self.total_fees
        return self.filled_value - self.total_fees


@attrs.frozen(kw_only=True)
class SimFill:
    """One execution of an order."""

    entry_id: str
    trade_id: str
    order_id: str
    product_id: str
    side: str
    price: Decimal
    size: Decimal
    commission: Decimal
    liquidity: str  # MAKER or TAKER
    time_ns: int


def order_rest_json(order: SimOrder) -> dict[str, Any]:
    """The ``GET /orders/historical/{id}`` shape of an order."""
    return {
        "order_id": order.order_id,
        "product_id": order.product_id,
        "user_id": USER_ID,
        "order_configuration": {order.config_key: order.configuration},
        "side": order.side,
        "client_order_id": order.client_order_id,
        "status": order.status,
        "time_in_force": order.time_in_force,
        "created_time": rfc3339_us(order.created_ns),
        "completion_percentage": dec(order.completion_pct),
        "filled_size": dec(order.filled_size),
        "average_filled_price": dec(order.average_price),
        "fee": "",
        "number_of_fills": str(order.number_of_fills),
        "filled_value": dec(order.filled_value),
        "pending_cancel": order.status == "CANCEL_QUEUED",
        "size_in_quote": order.quote_size is not None,
        "total_fees": dec(order.total_fees),
        "size_inclusive_of_fees": order.quote_size is not None,
        "total_value_after_fees": dec(order.value_after_fees()),
        "trigger_status": order.trigger_status,
        "order_type": order.order_type,
        "reject_reason": "REJECT_REASON_UNSPECIFIED",
        "settled": not order.is_open,
        "product_type": order.product_type,
        "reject_message": "",
        "cancel_message": order.cancel_message,
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": dec(order.hold),
        "is_liquidation": False,
        "last_fill_time": rfc3339_us(order.last_fill_ns) if order.last_fill_ns else None,
        "edit_history": [],
        "leverage": order.leverage,
        "margin_type": order.margin_type,
        "retail_portfolio_id": PORTFOLIO_ID,
        "originating_order_id": "",
        "attached_order_id": "",
    }


def order_ws_json(order: SimOrder) -> dict[str, Any]:
    """The ``user`` channel shape of an order (its own field names, see wire §1.4)."""
    size = order.base_size if order.base_size is not None else order.filled_size
    return {
        "avg_price": dec(order.average_price),
        "cancel_reason": order.cancel_message,
        "client_order_id": order.client_order_id,
        "completion_percentage": dec(order.completion_pct),
        "contract_expiry_type": (
            "EXPIRING" if order.product_type == "FUTURE" else "UNKNOWN_CONTRACT_EXPIRY_TYPE"
        ),
        "cumulative_quantity": dec(order.filled_size),
        "filled_value": dec(order.filled_value),
        "leaves_quantity": dec(size - order.filled_size if order.is_open else Decimal(0)),
        "limit_price": dec(order.limit_price) if order.limit_price is not None else "0",
        "number_of_fills": str(order.number_of_fills),
        "order_id": order.order_id,
        "order_side": order.side,
        "order_type": order.order_type.replace("_", " ").title().replace(" ", "_"),
        "outstanding_hold_amount": dec(order.hold),
        "post_only": "true" if order.post_only else "false",
        "product_id": order.product_id,
        "product_type": order.product_type,
        "reject_reason": "",
        "retail_portfolio_id": PORTFOLIO_ID,
        "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
        "status": order.status,
        "stop_price": dec(order.stop_price) if order.stop_price is not None else "",
        "time_in_force": order.time_in_force,
        "total_fees": dec(order.total_fees),
        "total_value_after_fees": dec(order.value_after_fees()),
        "trigger_status": order.trigger_status,
        "creation_time": rfc3339_us(order.created_ns),
        "end_time": rfc3339_us(order.end_time_ns) if order.end_time_ns else UNSET_TIME,
        "start_time": UNSET_TIME,
    }


def fill_json(fill: SimFill) -> dict[str, Any]:
    """The ``GET /orders/historical/fills`` shape of a fill."""
    return {
        "entry_id": fill.entry_id,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "trade_time": rfc3339_us(fill.time_ns),
        "trade_type": "FILL",
        "price": dec(fill.price),
        "size": dec(fill.size),
        "commission": dec(fill.commission),
        "product_id": fill.product_id,
        "sequence_timestamp": rfc3339_us(fill.time_ns),
        "liquidity_indicator": fill.liquidity,
        "size_in_quote": False,
        "user_id": USER_ID,
        "side": fill.side,
        "retail_portfolio_id": PORTFOLIO_ID,
    }
