"""CFM perp-style futures: positions, PnL, margin, leverage, close position (funding and the
margin windows: ``test_funding``, ``test_margin_windows``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.sim import SimExchange
from tests.sim.conftest import Api

BIP = "BIP-20DEC30-CDE"


def _buy(api: Api, cid: str, contracts: int, **extra: Any) -> dict[str, Any]:
    body = {
        "client_order_id": cid,
        "product_id": BIP,
        "side": "BUY",
        "order_configuration": {"market_market_ioc": {"base_size": str(contracts)}},
        **extra,
    }
    return dict(api.post("/orders", body).json())


def _summary(api: Api) -> dict[str, Any]:
    return dict(api.get("/cfm/balance_summary").json()["balance_summary"])


def test_buying_contracts_opens_a_long_position_at_the_fill_price(api: Api) -> None:
    reply = _buy(api, "f-1", 3)
    order = api.get_order(reply["success_response"]["order_id"])

    (position,) = api.get("/cfm/positions").json()["positions"]
    assert position["product_id"] == BIP
    assert position["side"] == "LONG"
    assert position["number_of_contracts"] == "3"
    assert Decimal(position["avg_entry_price"]) == Decimal(order["average_filled_price"])
    assert position["expiration_time"] == "2030-12-20T16:00:00Z"
    assert order["product_type"] == "FUTURE"
    assert order["total_fees"] == "0.45"


def test_a_single_position_is_served_under_its_product_id(api: Api) -> None:
    _buy(api, "f-1", 2)

    position = api.get(f"/cfm/positions/{BIP}").json()["position"]

    assert position["number_of_contracts"] == "2"


def test_balance_summary_shows_margin_as_amount_objects(api: Api) -> None:
    before = _summary(api)
    _buy(api, "f-1", 10)
    after = _summary(api)

    assert before["initial_margin"] == {"value": "0", "currency": "USD"}
    margin = Decimal(after["initial_margin"]["value"])
    assert Decimal(1500) < margin < Decimal(1900)  # 10 x 0.01 x ~69k x 0.245625 at 19:00 ET
    assert Decimal(after["futures_buying_power"]["value"]) < Decimal(
        before["futures_buying_power"]["value"]
    )
    assert (
        after["intraday_margin_window_measure"]["margin_window_type"]
        == "FCM_MARGIN_WINDOW_TYPE_INTRADAY"
    )


def test_unrealized_pnl_follows_the_mark(api: Api, sim: SimExchange) -> None:
    _buy(api, "f-1", 10)

    sim.faults.price_jump("BTC-USD", 0.02)
    sim.step()

    (position,) = api.get("/cfm/positions").json()["positions"]
    assert Decimal(position["unrealized_pnl"]) > Decimal(100)  # 0.1 BTC x ~1,380 USD


def test_selling_back_realizes_the_pnl(api: Api, sim: SimExchange) -> None:
    _buy(api, "f-1", 4)
    sim.faults.price_jump("BTC-USD", 0.02)
    sim.step()

    body = {
        "client_order_id": "f-2",
        "product_id": BIP,
        "side": "SELL",
        "order_configuration": {"market_market_ioc": {"base_size": "4"}},
    }
    api.post("/orders", body)

    assert api.get("/cfm/positions").json()["positions"] == []
    assert Decimal(_summary(api)["daily_realized_pnl"]["value"]) > Decimal(40)


def test_leverage_above_the_margin_rate_is_refused(api: Api) -> None:
    reply = _buy(api, "f-1", 1, leverage="20", margin_type="CROSS")

    assert reply["success"] is False
    assert reply["error_response"]["preview_failure_reason"] == "PREVIEW_INVALID_LEVERAGE"


def test_leverage_and_margin_type_are_recorded_on_the_order(api: Api) -> None:
    reply = _buy(api, "f-1", 1, leverage="3", margin_type="CROSS")

    order = api.get_order(reply["success_response"]["order_id"])
    assert (order["leverage"], order["margin_type"]) == ("3", "CROSS")


def test_fractional_contracts_are_refused(api: Api) -> None:
    reply = api.order("f-1", BIP, "BUY", market_market_ioc={"base_size": "1.5"})

    assert reply["error_response"]["new_order_failure_reason"] == "INVALID_SIZE_PRECISION"


def test_orders_beyond_the_margin_are_refused(api: Api) -> None:
    reply = _buy(api, "f-1", 2000)

    assert (
        reply["error_response"]["preview_failure_reason"]
        == "PREVIEW_INSUFFICIENT_FUNDS_FOR_FUTURES"
    )


def test_close_position_flattens_with_a_market_order(api: Api) -> None:
    _buy(api, "f-1", 5)

    reply = api.post(
        "/orders/close_position", {"client_order_id": "close-1", "product_id": BIP}
    ).json()

    order = api.get_order(reply["success_response"]["order_id"])
    assert (order["side"], order["filled_size"], order["status"]) == ("SELL", "5", "FILLED")
    assert api.get("/cfm/positions").json()["positions"] == []
