"""Order requests: what we ask the venue to create, validated here and encoded for the wire."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.venue.timestamps import format_rfc3339_ns

__all__ = [
    "LimitGtc",
    "LimitGtd",
    "LimitIoc",
    "MarginType",
    "MarketIoc",
    "OrderConfiguration",
    "OrderRequest",
    "OrderSide",
]


class OrderSide(enum.Enum):
    """The side of an order."""

    BUY = "BUY"
    SELL = "SELL"


class MarginType(enum.Enum):
    """How a futures position is margined."""

    CROSS = "CROSS"
    ISOLATED = "ISOLATED"


def _wire(value: Decimal) -> str:
    # Plain notation: the venue does not accept "1E-8".
    return format(value, "f")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive Decimal, was {value!r}")


@attrs.frozen(kw_only=True)
class MarketIoc:
    """A market order, immediate-or-cancel, sized in base units or (buys) in quote currency."""

    base_size: Decimal | None = attrs.field(default=None, validator=_positive)
    quote_size: Decimal | None = attrs.field(default=None, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if (self.base_size is None) == (self.quote_size is None):
            raise ValueError(
                "MarketIoc needs exactly one of base_size and quote_size, "
                f"was base_size={self.base_size!r}, quote_size={self.quote_size!r}"
            )

    def to_wire(self) -> dict[str, Any]:
        """The ``order_configuration`` object for the venue."""
        if self.base_size is not None:
            return {"market_market_ioc": {"base_size": _wire(self.base_size)}}
        assert self.quote_size is not None
        return {"market_market_ioc": {"quote_size": _wire(self.quote_size)}}


@attrs.frozen(kw_only=True)
class LimitGtc:
    """A limit order resting until cancelled; ``post_only`` refuses to take liquidity."""

    base_size: Decimal = attrs.field(validator=_positive)
    limit_price: Decimal = attrs.field(validator=_positive)
    post_only: bool = False

    def to_wire(self) -> dict[str, Any]:
        """The ``order_configuration`` object for the venue."""
        return {
            "limit_limit_gtc": {
                "base_size": _wire(self.base_size),
                "limit_price": _wire(self.limit_price),
                "post_only": self.post_only,
            }
        }


@attrs.frozen(kw_only=True)
class LimitGtd:
    """A limit order resting until ``end_time_ns`` (Unix nanoseconds)."""

    base_size: Decimal = attrs.field(validator=_positive)
    limit_price: Decimal = attrs.field(validator=_positive)
    end_time_ns: int
    post_only: bool = False

    def to_wire(self) -> dict[str, Any]:
        """The ``order_configuration`` object for the venue."""
        return {
            "limit_limit_gtd": {
                "base_size": _wire(self.base_size),
                "limit_price": _wire(self.limit_price),
                "end_time": format_rfc3339_ns(self.end_time_ns),
                "post_only": self.post_only,
            }
        }


@attrs.frozen(kw_only=True)
class LimitIoc:
    """A limit order, immediate-or-cancel (the venue's ``sor_limit_ioc``)."""

    base_size: Decimal = attrs.field(validator=_positive)
    limit_price: Decimal = attrs.field(validator=_positive)

    def to_wire(self) -> dict[str, Any]:
        """The ``order_configuration`` object for the venue."""
        return {
            "sor_limit_ioc": {
                "base_size": _wire(self.base_size),
                "limit_price": _wire(self.limit_price),
            }
        }


OrderConfiguration = MarketIoc | LimitGtc | LimitGtd | LimitIoc


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, was {value!r}")


@attrs.frozen(kw_only=True)
class OrderRequest:
    """One order to create. ``client_order_id`` makes creation idempotent: the venue returns
    the existing order for a reused id or refuses it as a duplicate, and the client settles
    either by looking the order up (:meth:`RestClient.create_order`).

    ``leverage`` and ``margin_type`` apply to futures and are omitted from the wire when None.
    """

    client_order_id: str = attrs.field(validator=_non_empty)
    product_id: str = attrs.field(validator=_non_empty)
    side: OrderSide
    configuration: OrderConfiguration
    leverage: Decimal | None = attrs.field(default=None, validator=_positive)
    margin_type: MarginType | None = None

    def to_wire(self, *, include_client_order_id: bool = True) -> dict[str, Any]:
        """The JSON body of ``POST /orders`` (or, without the client id, of a preview)."""
        body: dict[str, Any] = {
            "product_id": self.product_id,
            "side": self.side.value,
            "order_configuration": self.configuration.to_wire(),
        }
        if include_client_order_id:
            body["client_order_id"] = self.client_order_id
        if self.leverage is not None:
            body["leverage"] = _wire(self.leverage)
        if self.margin_type is not None:
            body["margin_type"] = self.margin_type.value
        return body
