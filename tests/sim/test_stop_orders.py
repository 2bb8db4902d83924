"""Stop-limit orders wait unseen until the last trade crosses the stop, then act as limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.sim import SimExchange
from tests.sim.conftest import Api


def _last(api: Api, product_id: str) -> Decimal:
    return Decimal(api.get(f"/products/{product_id}").json()["price"])


def _stop_loss(api: Api, stop: Decimal, limit: Decimal) -> dict[str, Any]:
    return api.order(
        "stop-1",
        "BTC-USD",
        "SELL",
        stop_limit_stop_limit_gtc={
            "base_size": "0.5",
            "limit_price": str(limit),
            "stop_price": str(stop),
            "stop_direction": "STOP_DIRECTION_STOP_DOWN",
        },
    )


def test_a_stop_waits_pending_off_the_book(api: Api) -> None:
    last = _last(api, "BTC-USD")

    reply = _stop_loss(api, last - 100, last - 200)

    order = api.get_order(reply["success_response"]["order_id"])
    asks = api.get("/product_book", product_id="BTC-USD").json()["pricebook"]["asks"]
    assert (order["status"], order["trigger_status"], order["order_type"]) == (
        "OPEN",
        "STOP_PENDING",
        "STOP_LIMIT",
    )
    assert str(last - 200) not in {a["price"] for a in asks}
    btc = next(a for a in api.get("/accounts").json()["accounts"] if a["currency"] == "BTC")
    assert btc["hold"]["value"] == "0.5"


def test_a_stop_triggers_when_the_last_trade_crosses_and_fills_as_a_limit(
    api: Api, sim: SimExchange
) -> None:
    last = _last(api, "BTC-USD")
    order_id = _stop_loss(api, last - 100, last - 2000)["success_response"]["order_id"]

    sim.faults.price_jump("BTC-USD", -0.01)
    for _ in range(30):  # a synthetic trade prints on about half the steps
        sim.step()
        if api.get_order(order_id)["trigger_status"] == "STOP_TRIGGERED":
            break

    order = api.get_order(order_id)
    assert order["trigger_status"] == "STOP_TRIGGERED"
    assert order["status"] == "FILLED"
    assert Decimal(order["average_filled_price"]) >= last - 2000


def test_a_stop_down_above_the_last_trade_is_refused(api: Api) -> None:
    last = _last(api, "BTC-USD")

    reply = _stop_loss(api, last + 100, last)

    assert (
        reply["error_response"]["preview_failure_reason"]
        == "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE"
    )


def test_a_stop_without_a_direction_is_refused(api: Api) -> None:
    reply = api.order(
        "stop-1",
        "BTC-USD",
        "BUY",
        stop_limit_stop_limit_gtc={"base_size": "0.01", "limit_price": "1", "stop_price": "2"},
    )

    assert reply["error_response"]["new_order_failure_reason"] == "INVALID_REQUEST"
