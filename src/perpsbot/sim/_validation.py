"""Checks an order request in Coinbase's order and turns it into a parsed order or a rejection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.cfm_calendar import is_intraday
from perpsbot.sim._orders import TIME_IN_FORCE
from perpsbot.sim._products import SimProduct
from perpsbot.sim._wire import is_multiple, parse_rfc3339_ns, to_decimal

_RESTING = frozenset(
    {"limit_limit_gtc", "limit_limit_gtd", "stop_limit_stop_limit_gtc", "stop_limit_stop_limit_gtd"}
)
_STOP_DIRECTIONS = frozenset({"STOP_DIRECTION_STOP_UP", "STOP_DIRECTION_STOP_DOWN"})


class Rejection(Exception):  # noqa: N818 - an answer carried out of the checks, not a fault
    """Why an order was refused, in both vocabularies Coinbase uses."""

    def __init__(
        self,
        *,
        new_order: str = "UNKNOWN_FAILURE_REASON",
        preview: str = "UNKNOWN_PREVIEW_FAILURE_REASON",
        message: str = "",
    ) -> None:
        super().__init__(message or new_order)
        self.new_order = new_order
        self.preview = preview
        self.message = message

    @property
    def error(self) -> str:
        if self.new_order != "UNKNOWN_FAILURE_REASON":
            return "UNKNOWN_FAILURE_REASON"
        return self.preview.removeprefix("PREVIEW_")

    def response(self) -> dict[str, Any]:
        """The HTTP-200 ``success: false`` body of ``POST /orders``."""
        return {
            "success": False,
            "failure_reason": "UNKNOWN_FAILURE_REASON",
            "order_id": "",
            "error_response": {
                "error": self.error,
                "message": self.message,
                "error_details": "",
                "preview_failure_reason": self.preview,
                "new_order_failure_reason": self.new_order,
            },
        }


@attrs.frozen(kw_only=True)
class ParsedOrder:
    product: SimProduct
    side: str
    config_key: str
    configuration: dict[str, Any]
    base_size: Decimal | None
    quote_size: Decimal | None
    limit_price: Decimal | None
    post_only: bool
    end_time_ns: int | None
    leverage: Decimal
    margin_type: str
    stop_price: Decimal | None = None
    stop_direction: str = ""

    @property
    def is_fok(self) -> bool:
        return self.config_key.endswith("_fok")

    @property
    def rests(self) -> bool:
        return self.config_key in _RESTING

    @property
    def is_stop(self) -> bool:
        return self.stop_price is not None


def parse_order(
    body: dict[str, Any],
    products: dict[str, SimProduct],
    *,
    now_ns: int,
    trading_disabled: frozenset[str] = frozenset(),
    cancel_only: frozenset[str] = frozenset(),
) -> ParsedOrder:
    """Validate ``body`` (a create or preview request); raises :class:`Rejection`."""
    spec = products.get(str(body.get("product_id", "")))
    if spec is None:
        raise Rejection(new_order="INVALID_PRODUCT_ID", message="valid product_id is required")
    if spec.product_id in trading_disabled:
        raise Rejection(new_order="UNTRADABLE_PRODUCT", message="product is not tradable")
    if spec.product_id in cancel_only:
        raise Rejection(new_order="ORDER_ENTRY_DISABLED", message="product is cancel only")
    side = body.get("side")
    if side not in ("BUY", "SELL"):
        raise Rejection(new_order="INVALID_SIDE", message=f"side must be BUY or SELL, was {side!r}")
    configuration = body.get("order_configuration")
    if not isinstance(configuration, dict) or len(configuration) != 1:
        raise Rejection(
            new_order="UNSUPPORTED_ORDER_CONFIGURATION",
            message="order_configuration must hold exactly one key",
        )
    ((key, conf),) = configuration.items()
    if key not in TIME_IN_FORCE or not isinstance(conf, dict):
        raise Rejection(
            new_order="UNSUPPORTED_ORDER_CONFIGURATION",
            message=f"the sim does not support order_configuration {key!r}",
        )
    try:
        base = _opt_decimal(conf, "base_size")
        quote = _opt_decimal(conf, "quote_size")
        limit = _opt_decimal(conf, "limit_price")
        stop = _opt_decimal(conf, "stop_price")
        leverage = to_decimal(body.get("leverage", "1"), "leverage")
        end_raw = conf.get("end_time")
        end_ns = parse_rfc3339_ns(str(end_raw)) if end_raw is not None else None
    except ValueError as exc:
        raise Rejection(new_order="INVALID_REQUEST", message=str(exc)) from exc
    post_only = conf.get("post_only", False) in (True, "true")
    _check_sizes(spec, side, key, base=base, quote=quote, limit=limit)
    if key.startswith("stop_limit"):
        _check_stop(spec, stop, conf.get("stop_direction"))
    if key.endswith("_gtd") and (end_ns is None or end_ns <= now_ns):
        raise Rejection(new_order="INVALID_REQUEST", message="end_time must be in the future")
    margin_type = str(body.get("margin_type", "CROSS"))
    if margin_type not in ("CROSS", "ISOLATED"):
        raise Rejection(preview="PREVIEW_INVALID_MARGIN_TYPE", message="invalid margin_type")
    if spec.is_future and spec.intraday_margin is not None:
        rate = spec.margin_rate(side, intraday=is_intraday(now_ns))  # the window in effect
        if leverage <= 0 or leverage * rate > 1:
            raise Rejection(
                preview="PREVIEW_INVALID_LEVERAGE",
                message=f"leverage must be in (0, {(1 / rate):.2f}], was {leverage}",
            )
    return ParsedOrder(
        product=spec,
        side=side,
        config_key=key,
        configuration=dict(conf),
        base_size=base,
        quote_size=quote,
        limit_price=limit,
        post_only=post_only,
        end_time_ns=end_ns,
        leverage=leverage,
        margin_type=margin_type,
        stop_price=stop if key.startswith("stop_limit") else None,
        stop_direction=str(conf.get("stop_direction", "")),
    )


def _opt_decimal(conf: dict[str, Any], field: str) -> Decimal | None:
    value = conf.get(field)
    return None if value is None else to_decimal(value, field)


def _check_sizes(
    spec: SimProduct,
    side: str,
    key: str,
    *,
    base: Decimal | None,
    quote: Decimal | None,
    limit: Decimal | None,
) -> None:
    is_market = key.startswith("market")
    if (base is None) == (quote is None) or (
        quote is not None and not (is_market and side == "BUY")
    ):
        raise Rejection(
            new_order="INVALID_REQUEST",
            message="give exactly one of base_size or quote_size (quote_size only on market buys)",
        )
    if quote is not None and spec.is_future:
        raise Rejection(
            new_order="INVALID_REQUEST", message="futures orders are sized in contracts"
        )
    if not is_market and limit is None:
        raise Rejection(new_order="INVALID_REQUEST", message="limit_price is required")
    if base is not None:
        if base <= 0 or not is_multiple(base, spec.base_increment):
            raise Rejection(
                new_order="INVALID_SIZE_PRECISION",
                message=(
                    f"base_size must be a positive multiple of {spec.base_increment}, was {base}"
                ),
            )
        if base < spec.base_min_size:
            raise Rejection(
                preview="PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
                message=f"base_size must be at least {spec.base_min_size}, was {base}",
            )
        if base > spec.base_max_size:
            raise Rejection(
                preview="PREVIEW_INVALID_BASE_SIZE_TOO_LARGE",
                message=f"base_size must be at most {spec.base_max_size}, was {base}",
            )
    if quote is not None and (
        quote < spec.quote_min_size or not is_multiple(quote, spec.quote_increment)
    ):
        raise Rejection(
            preview="PREVIEW_INVALID_QUOTE_SIZE_PRECISION",
            message=(
                f"quote_size must be a multiple of {spec.quote_increment}"
                f" and >= {spec.quote_min_size}"
            ),
        )
    if limit is not None and (limit <= 0 or not is_multiple(limit, spec.price_increment)):
        raise Rejection(
            new_order="INVALID_PRICE_PRECISION",
            message=(
                f"limit_price must be a positive multiple of {spec.price_increment}, was {limit}"
            ),
        )


def _check_stop(spec: SimProduct, stop: Decimal | None, direction: object) -> None:
    if stop is None or stop <= 0 or not is_multiple(stop, spec.price_increment):
        raise Rejection(
            new_order="INVALID_PRICE_PRECISION",
            message=f"stop_price must be a positive multiple of {spec.price_increment}, was {stop}",
        )
    if direction not in _STOP_DIRECTIONS:
        raise Rejection(
            new_order="INVALID_REQUEST",
            message=f"stop_direction must be one of {sorted(_STOP_DIRECTIONS)}, was {direction!r}",
        )
