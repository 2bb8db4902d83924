"""Fitting intents to a product's grid, at each boundary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.actors.execution._quantize import (
    Quantized,
    QuantizeRejection,
    new_order,
    quantize,
)
from perpsbot.messages import (
    IntentPurpose,
    OrderIntent,
    OrderType,
    ProductSpec,
    Side,
    TimeInForce,
)
from perpsbot.venue.advanced_trade import order_request

D = Decimal

SPOT = ProductSpec(
    symbol="BTC-USD", is_future=False, contract_size=D(1), base_increment=D("0.00001"),
    price_increment=D("0.01"), base_min_size=D("0.0001"), min_notional=D(1),
    max_leverage=None, base_max_size=D(100),
)  # fmt: skip
PERP = ProductSpec(
    symbol="BIP-20DEC30-CDE", is_future=True, contract_size=D("0.01"), base_increment=D(1),
    price_increment=D(5), base_min_size=D(1), min_notional=None, max_leverage=D(10),
)  # fmt: skip


def _intent(size: str, **changes: Any) -> OrderIntent:
    intent = OrderIntent(
        message_id="m", ts_created_ns=0, intent_id="i", symbol="BTC-USD", side=Side.BUY,
        size=D(size), reference_mark=D(60_000), reason="test", valid_until_ns=1,
    )  # fmt: skip
    return attrs.evolve(intent, **changes)


def _limit(size: str, price: str, side: Side = Side.BUY, **changes: Any) -> OrderIntent:
    changes = {"time_in_force": TimeInForce.GTC, **changes}
    return _intent(size, order_type=OrderType.LIMIT, limit_price=D(price), side=side, **changes)


def _rule(result: Quantized | QuantizeRejection) -> str:
    assert isinstance(result, QuantizeRejection), result
    return result.rule


def test_the_minimum_size_passes_and_one_increment_less_is_rejected_with_the_numbers() -> None:
    fitted = quantize(_intent("0.0001"), SPOT, D(60_000))
    assert isinstance(fitted, Quantized)
    assert fitted.size == D("0.0001")
    rejected = quantize(_intent("0.00009"), SPOT, D(60_000))
    assert rejected == QuantizeRejection(
        rule="base_min_size",
        reason="size 0.00009 BTC is below base_min_size 0.0001 for BTC-USD",
    )


def test_sizes_round_down_to_the_increment_never_up() -> None:
    fitted = quantize(_intent("0.123459"), SPOT, D(60_000))
    assert isinstance(fitted, Quantized)
    assert fitted.size == D("0.12345")
    rejected = quantize(_intent("0.000109"), SPOT, D(60_000))
    assert isinstance(rejected, Quantized)  # 0.00010 is the minimum exactly
    assert _rule(quantize(_intent("0.0000999"), SPOT, D(60_000))) == "base_min_size"


def test_the_maximum_size_is_enforced() -> None:
    assert isinstance(quantize(_intent("100"), SPOT, D(1)), Quantized)
    assert _rule(quantize(_intent("100.00001"), SPOT, D(1))) == "base_max_size"


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        (Side.BUY, "60000.019", "60000.01"),  # a buy never pays more than its limit
        (Side.SELL, "60000.011", "60000.02"),  # a sell never sells for less
        (Side.BUY, "60000.01", "60000.01"),
        (Side.SELL, "60000.01", "60000.01"),
    ],
)
def test_limit_prices_round_in_the_orders_favour(side: Side, price: str, expected: str) -> None:
    fitted = quantize(_limit("0.001", price, side), SPOT, D(60_000))
    assert isinstance(fitted, Quantized)
    assert fitted.limit_price == D(expected)


def test_a_limit_below_one_tick_is_rejected() -> None:
    assert _rule(quantize(_limit("1", "0.004"), SPOT, D(1))) == "price_increment"


def test_min_notional_passes_at_the_boundary_and_rejects_below_it() -> None:
    assert isinstance(quantize(_limit("0.0001", "10000"), SPOT, D(1)), Quantized)  # 1.00 USD
    rejected = quantize(_limit("0.0001", "9999.99"), SPOT, D(1))
    assert rejected == QuantizeRejection(
        rule="min_notional", reason="notional 1.00 USD is below min_notional 1 for BTC-USD"
    )


def test_a_market_orders_notional_is_priced_at_the_checked_mark() -> None:
    assert isinstance(quantize(_intent("0.0001"), SPOT, D(10_000)), Quantized)
    assert _rule(quantize(_intent("0.0001"), SPOT, D("9999.99"))) == "min_notional"


def test_futures_are_sized_in_whole_contracts() -> None:
    intent = _intent("2.7", symbol=PERP.symbol)
    fitted = quantize(intent, PERP, D(68_000))
    assert isinstance(fitted, Quantized)
    assert fitted.size == D(2)
    assert fitted.notional == D(2) * D(68_000) * D("0.01")
    rejected = quantize(_intent("0.9", symbol=PERP.symbol), PERP, D(68_000))
    assert rejected == QuantizeRejection(
        rule="base_min_size",
        reason="size 0 contracts (0.9 rounded down to base_increment 1) is below base_min_size"
        " 1 for BIP-20DEC30-CDE",
    )


def test_an_untradable_product_and_a_post_only_ioc_are_rejected() -> None:
    assert _rule(quantize(_intent("1"), attrs.evolve(SPOT, tradable=False), D(1))) == (
        "product_not_tradable"
    )
    post_only_ioc = _limit("1", "100", time_in_force=TimeInForce.IOC, post_only=True)
    assert _rule(quantize(post_only_ioc, SPOT, D(1))) == "post_only_ioc"


def _wire(intent: OrderIntent, spec: ProductSpec) -> dict[str, Any]:
    fitted = quantize(intent, spec, D(60_000))
    assert isinstance(fitted, Quantized)
    return order_request(new_order(intent, fitted, spec, "pb-x")).to_wire()


def test_each_intent_becomes_the_venues_order_configuration() -> None:
    assert _wire(_intent("0.5"), SPOT)["order_configuration"] == {
        "market_market_ioc": {"base_size": "0.50000"}
    }
    assert _wire(_limit("0.5", "61000", post_only=True), SPOT)["order_configuration"] == {
        "limit_limit_gtc": {"base_size": "0.50000", "limit_price": "61000.00", "post_only": True}
    }
    ioc = _limit("0.5", "61000", time_in_force=TimeInForce.IOC)
    assert _wire(ioc, SPOT)["order_configuration"] == {
        "sor_limit_ioc": {"base_size": "0.50000", "limit_price": "61000.00"}
    }


def test_leverage_is_sent_for_futures_only() -> None:
    leveraged = _intent("3", symbol=PERP.symbol, leverage=D(2), purpose=IntentPurpose.ENTRY)
    assert _wire(leveraged, PERP)["leverage"] == "2"
    assert "leverage" not in _wire(_intent("1", leverage=D(2)), SPOT)
