"""Editing a resting GTC limit order: new price and size, holds moved, refusals by reason."""

from __future__ import annotations

from decimal import Decimal

from tests.sim.conftest import Api


def _resting_buy(api: Api, size: str = "0.1") -> tuple[str, Decimal]:
    bid = (
        Decimal(
            api.get("/product_book", product_id="BTC-USD").json()["pricebook"]["bids"][0]["price"]
        )
        - 20
    )
    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        limit_limit_gtc={"base_size": size, "limit_price": str(bid), "post_only": True},
    )
    return reply["success_response"]["order_id"], bid


def test_edit_moves_price_and_size_and_the_hold(api: Api) -> None:
    order_id, bid = _resting_buy(api)

    reply = api.post(
        "/orders/edit", {"order_id": order_id, "price": str(bid - 5), "size": "0.2"}
    ).json()

    order = api.get_order(order_id)
    assert reply == {"success": True, "errors": []}
    assert order["order_configuration"]["limit_limit_gtc"]["limit_price"] == str(bid - 5)
    assert order["order_configuration"]["limit_limit_gtc"]["base_size"] == "0.2"
    assert Decimal(order["outstanding_hold_amount"]) == Decimal("0.2") * (bid - 5) * Decimal(
        "1.004"
    )


def test_edit_preview_changes_nothing(api: Api) -> None:
    order_id, bid = _resting_buy(api)

    preview = api.post(
        "/orders/edit_preview", {"order_id": order_id, "price": str(bid - 5), "size": "0.2"}
    ).json()

    assert preview["errors"] == []
    assert preview["base_size"] == "0.2"
    assert api.get_order(order_id)["order_configuration"]["limit_limit_gtc"]["base_size"] == "0.1"


def test_editing_an_unknown_order_is_refused(api: Api) -> None:
    reply = api.post("/orders/edit", {"order_id": "nope", "price": "1", "size": "1"}).json()

    assert reply == {
        "success": False,
        "errors": [
            {
                "edit_failure_reason": "ORDER_NOT_FOUND",
                "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
            }
        ],
    }


def test_editing_a_market_order_is_refused(api: Api) -> None:
    reply = api.order("m-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})

    body = api.post(
        "/orders/edit",
        {"order_id": reply["success_response"]["order_id"], "price": "1", "size": "1"},
    ).json()

    assert body["errors"][0]["edit_failure_reason"] == "ONLY_LIMIT_ORDER_EDITS_SUPPORTED"


def test_a_post_only_edit_that_would_cross_is_refused(api: Api) -> None:
    order_id, _ = _resting_buy(api)
    ask = api.get("/product_book", product_id="BTC-USD").json()["pricebook"]["asks"][0]["price"]

    body = api.post("/orders/edit", {"order_id": order_id, "price": ask, "size": "0.1"}).json()

    assert body["success"] is False
    assert body["errors"][0]["preview_failure_reason"] == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"


def test_an_edit_off_the_tick_is_refused(api: Api) -> None:
    order_id, bid = _resting_buy(api)

    body = api.post(
        "/orders/edit", {"order_id": order_id, "price": f"{bid}.001", "size": "0.1"}
    ).json()

    assert body["errors"][0]["edit_failure_reason"] == "INVALID_EDITED_PRICE"
