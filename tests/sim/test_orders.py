"""Order entry on spot products: matching, fees, holds, rejections, cancel, lists, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api


def _book(api: Api, product_id: str = "BTC-USD") -> dict[str, Any]:
    return dict(api.get("/product_book", product_id=product_id, limit=50).json()["pricebook"])


def _usd(api: Api) -> tuple[Decimal, Decimal]:
    for account in api.get("/accounts").json()["accounts"]:
        if account["currency"] == "USD":
            return Decimal(account["available_balance"]["value"]), Decimal(account["hold"]["value"])
    raise AssertionError("no USD account")


def test_market_buy_fills_at_the_ask_and_charges_the_taker_fee(api: Api) -> None:
    best_ask = _book(api)["asks"][0]
    size = (Decimal(best_ask["size"]) / 2).quantize(Decimal("1e-8"))

    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": str(size)})
    order = api.get_order(reply["success_response"]["order_id"])

    assert reply["success"] is True
    assert reply["success_response"]["client_order_id"] == "c-1"
    assert order["status"] == "FILLED"
    assert Decimal(order["filled_size"]) == size
    assert Decimal(order["average_filled_price"]) == Decimal(best_ask["price"])
    notional = size * Decimal(best_ask["price"])
    assert Decimal(order["total_fees"]) == (notional * Decimal("0.006")).quantize(Decimal("1e-8"))
    assert order["order_type"] == "MARKET"
    assert order["time_in_force"] == "IMMEDIATE_OR_CANCEL"


def test_market_buy_larger_than_the_best_level_sweeps_several_levels(api: Api) -> None:
    asks = _book(api)["asks"]
    size = Decimal(asks[0]["size"]) + (Decimal(asks[1]["size"]) / 2).quantize(Decimal("1e-8"))

    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": str(size)})
    order_id = reply["success_response"]["order_id"]
    fills = api.get("/orders/historical/fills", order_ids=order_id).json()["fills"]

    assert sorted(Decimal(f["price"]) for f in fills) == [
        Decimal(asks[0]["price"]),
        Decimal(asks[1]["price"]),
    ]
    assert all(f["liquidity_indicator"] == "TAKER" for f in fills)
    assert api.get_order(order_id)["number_of_fills"] == "2"
    assert Decimal(_book(api)["asks"][0]["price"]) == Decimal(asks[1]["price"])


def test_market_buy_by_quote_size_spends_at_most_that_including_fees(api: Api) -> None:
    usd_before, _ = _usd(api)

    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"quote_size": "1000.00"})
    order = api.get_order(reply["success_response"]["order_id"])

    spent = usd_before - _usd(api)[0]
    assert order["status"] == "FILLED"
    assert Decimal("990") < spent <= Decimal("1000")
    assert Decimal(order["total_value_after_fees"]) == spent


def test_limit_ioc_fills_what_it_can_and_cancels_the_rest(api: Api) -> None:
    best_ask = _book(api)["asks"][0]
    size = Decimal(best_ask["size"]) * 3

    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        sor_limit_ioc={"base_size": str(size), "limit_price": best_ask["price"]},
    )
    order = api.get_order(reply["success_response"]["order_id"])

    assert order["status"] == "CANCELLED"
    assert Decimal(order["filled_size"]) == Decimal(best_ask["size"])
    assert order["outstanding_hold_amount"] == "0"


def test_limit_gtc_below_the_ask_rests_and_holds_funds(api: Api) -> None:
    bid = Decimal(_book(api)["bids"][0]["price"]) - 10
    usd_before, _ = _usd(api)

    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        limit_limit_gtc={"base_size": "0.1", "limit_price": str(bid), "post_only": True},
    )
    order = api.get_order(reply["success_response"]["order_id"])

    available, hold = _usd(api)
    assert order["status"] == "OPEN"
    assert order["time_in_force"] == "GOOD_UNTIL_CANCELLED"
    assert hold == Decimal("0.1") * bid * Decimal("1.004")
    assert available == usd_before - hold
    assert {"price": str(bid), "size": "0.1"} in _book(api)["bids"]


def test_resting_limit_order_fills_as_a_maker_when_the_price_walks_through_it(
    api: Api, sim: SimExchange
) -> None:
    bid = Decimal(_book(api)["bids"][0]["price"]) - 10
    reply = api.order(
        "c-1", "BTC-USD", "BUY", limit_limit_gtc={"base_size": "0.01", "limit_price": str(bid)}
    )
    order_id = reply["success_response"]["order_id"]

    sim.faults.price_jump("BTC-USD", -0.01)
    sim.step()

    order = api.get_order(order_id)
    (fill,) = api.get("/orders/historical/fills", order_ids=order_id).json()["fills"]
    assert order["status"] == "FILLED"
    assert Decimal(fill["price"]) == bid
    assert fill["liquidity_indicator"] == "MAKER"
    assert Decimal(fill["commission"]) == (bid * Decimal("0.01") * Decimal("0.004")).quantize(
        Decimal("1e-8")
    )
    assert _usd(api)[1] == 0


def test_post_only_order_that_would_cross_is_refused_with_http_200(api: Api) -> None:
    ask = _book(api)["asks"][0]["price"]

    response = api.post(
        "/orders",
        {
            "client_order_id": "c-1",
            "product_id": "BTC-USD",
            "side": "BUY",
            "order_configuration": {
                "limit_limit_gtc": {"base_size": "0.01", "limit_price": ask, "post_only": True}
            },
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert body["error_response"]["new_order_failure_reason"] == "INVALID_LIMIT_PRICE_POST_ONLY"
    assert api.get("/orders/historical/batch").json()["orders"] == []


def test_size_off_the_increment_is_refused_as_size_precision(api: Api) -> None:
    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.000000001"})

    assert reply["success"] is False
    assert reply["error_response"]["new_order_failure_reason"] == "INVALID_SIZE_PRECISION"


def test_price_off_the_tick_is_refused_as_price_precision(api: Api) -> None:
    reply = api.order(
        "c-1", "BTC-USD", "BUY", limit_limit_gtc={"base_size": "0.01", "limit_price": "100.001"}
    )

    assert reply["error_response"]["new_order_failure_reason"] == "INVALID_PRICE_PRECISION"


def test_order_beyond_the_balance_is_refused_as_insufficient_fund(api: Api) -> None:
    reply = api.order("c-1", "BTC-USD", "SELL", market_market_ioc={"base_size": "2"})

    assert reply["success"] is False
    assert reply["error_response"]["error"] == "INSUFFICIENT_FUND"
    assert reply["error_response"]["preview_failure_reason"] == "PREVIEW_INSUFFICIENT_FUND"


def test_unsupported_configuration_is_refused(api: Api) -> None:
    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        trigger_bracket_gtc={"base_size": "0.01", "limit_price": "1", "stop_trigger_price": "2"},
    )

    assert reply["error_response"]["new_order_failure_reason"] == "UNSUPPORTED_ORDER_CONFIGURATION"


def test_duplicate_client_order_id_returns_the_existing_order(api: Api) -> None:
    first = api.order("same", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})
    second = api.order("same", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.5"})

    assert second == first
    orders = api.get("/orders/historical/batch").json()["orders"]
    assert len(orders) == 1
    assert orders[0]["filled_size"] == "0.01"


def test_fill_or_kill_that_cannot_fill_completely_is_killed(api: Api) -> None:
    best_ask = _book(api)["asks"][0]
    size = Decimal(best_ask["size"]) + Decimal("0.00000001")

    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        limit_limit_fok={"base_size": str(size), "limit_price": best_ask["price"]},
    )

    order = api.get_order(reply["success_response"]["order_id"])
    assert order["status"] == "CANCELLED"
    assert order["filled_size"] == "0"


def test_gtd_order_expires_at_its_end_time(api: Api, sim: SimExchange, clock: FakeClock) -> None:
    bid = Decimal(_book(api)["bids"][-1]["price"]) - 100
    reply = api.order(
        "c-1",
        "BTC-USD",
        "BUY",
        limit_limit_gtd={
            "base_size": "0.01",
            "limit_price": str(bid),
            "end_time": "2026-01-01T00:00:30Z",
        },
    )
    order_id = reply["success_response"]["order_id"]

    clock.advance(31)
    sim.step()

    order = api.get_order(order_id)
    assert order["status"] == "EXPIRED"
    assert order["time_in_force"] == "GOOD_UNTIL_DATE_TIME"
    assert _usd(api)[1] == 0


def test_cancel_releases_the_hold_and_reports_each_id(api: Api) -> None:
    bid = Decimal(_book(api)["bids"][0]["price"]) - 10
    reply = api.order(
        "c-1", "BTC-USD", "BUY", limit_limit_gtc={"base_size": "0.1", "limit_price": str(bid)}
    )
    order_id = reply["success_response"]["order_id"]

    body = api.post("/orders/batch_cancel", {"order_ids": [order_id, "nope"]}).json()

    assert body == {
        "results": [
            {
                "success": True,
                "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                "order_id": order_id,
            },
            {"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": "nope"},
        ]
    }
    assert api.get_order(order_id)["status"] == "CANCELLED"
    assert _usd(api)[1] == 0
    assert {"price": str(bid), "size": "0.1"} not in _book(api)["bids"]


def test_cancelling_a_filled_order_fails(api: Api) -> None:
    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})
    order_id = reply["success_response"]["order_id"]

    (result,) = api.post("/orders/batch_cancel", {"order_ids": [order_id]}).json()["results"]

    assert result["success"] is False
    assert result["failure_reason"] == "ORDER_IS_FULLY_FILLED"


def test_preview_runs_the_checks_without_placing_anything(api: Api) -> None:
    body = {
        "product_id": "BTC-USD",
        "side": "BUY",
        "order_configuration": {"market_market_ioc": {"base_size": "0.01"}},
    }
    good = api.post("/orders/preview", body).json()
    body["order_configuration"] = {"market_market_ioc": {"base_size": "50"}}
    bad = api.post("/orders/preview", body).json()

    assert good["errs"] == []
    assert good["base_size"] == "0.01"
    assert Decimal(good["commission_total"]) > 0
    assert good["preview_id"]
    assert bad["errs"] == ["PREVIEW_INSUFFICIENT_FUND"]
    assert api.get("/orders/historical/batch").json()["orders"] == []


def test_list_orders_pages_with_cursor_and_has_next(api: Api) -> None:
    for i in range(5):
        api.order(f"c-{i}", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.001"})

    first = api.get("/orders/historical/batch", limit=2).json()
    second = api.get("/orders/historical/batch", limit=2, cursor=first["cursor"]).json()
    last = api.get("/orders/historical/batch", limit=2, cursor=second["cursor"]).json()

    assert (first["has_next"], second["has_next"], last["has_next"]) == (True, True, False)
    assert last["cursor"] == ""
    ids = [o["client_order_id"] for page in (first, second, last) for o in page["orders"]]
    assert ids == ["c-4", "c-3", "c-2", "c-1", "c-0"]


def test_list_orders_filters_by_status_and_product(api: Api) -> None:
    bid = Decimal(_book(api, "ETH-USD")["bids"][0]["price"]) - 5
    api.order(
        "open", "ETH-USD", "BUY", limit_limit_gtc={"base_size": "0.1", "limit_price": str(bid)}
    )
    api.order("done", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.001"})

    open_orders = api.get("/orders/historical/batch", order_status="OPEN").json()["orders"]
    btc_orders = api.get("/orders/historical/batch", product_ids="BTC-USD").json()["orders"]

    assert [o["client_order_id"] for o in open_orders] == ["open"]
    assert [o["client_order_id"] for o in btc_orders] == ["done"]


def test_fills_page_with_a_cursor(api: Api) -> None:
    for i in range(3):
        api.order(f"c-{i}", "ETH-USD", "SELL", market_market_ioc={"base_size": "0.01"})

    first = api.get("/orders/historical/fills", limit=2).json()
    rest = api.get("/orders/historical/fills", limit=2, cursor=first["cursor"]).json()

    assert len(first["fills"]) == 2
    assert first["cursor"] != ""
    assert len(rest["fills"]) == 1
    assert rest["cursor"] == ""
    fill = rest["fills"][0]
    assert set(fill) >= {
        "entry_id",
        "trade_id",
        "sequence_timestamp",
        "liquidity_indicator",
        "commission",
    }


def test_unknown_order_id_is_a_404(api: Api) -> None:
    assert api.get("/orders/historical/not-an-order").status_code == 404


def test_accounts_page_with_a_cursor(api: Api) -> None:
    first = api.get("/accounts", limit=2).json()
    rest = api.get("/accounts", limit=2, cursor=first["cursor"]).json()

    assert first["has_next"] is True
    assert [a["currency"] for a in first["accounts"] + rest["accounts"]] == ["BTC", "ETH", "USD"]
    assert rest["has_next"] is False


def test_a_partly_filled_resting_order_never_leaves_the_book_crossed(
    make_sim: Callable[..., SimExchange], http: requests.Session
) -> None:
    sim = make_sim(volatility=0.0)
    api = Api(http, sim.rest_base_url)
    bid = _book(api, "ETH-USD")["bids"][0]["price"]
    reply = api.order(
        "c-1", "ETH-USD", "BUY", limit_limit_gtc={"base_size": "25", "limit_price": bid}
    )

    sim.faults.price_jump("ETH-USD", -0.0001)
    sim.step()

    order = api.get_order(reply["success_response"]["order_id"])
    book = _book(api, "ETH-USD")
    assert order["status"] == "OPEN"
    assert 0 < Decimal(order["filled_size"]) < 25
    assert Decimal(book["bids"][0]["price"]) < Decimal(book["asks"][0]["price"])
