"""The public and authenticated market-data endpoints answer in Coinbase's shapes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api

NOT_FOUND = {
    "error": "NOT_FOUND",
    "error_details": "valid product_id is required",
    "message": "valid product_id is required",
}


def test_server_time_comes_from_the_injected_clock(api: Api, clock: FakeClock) -> None:
    body = api.get("/time").json()

    assert body["epochSeconds"] == str(clock.time_ns() // 10**9)
    assert body["epochMillis"] == str(clock.time_ns() // 10**6)
    assert body["iso"].startswith("2026-01-01T00:00:00")


def test_products_lists_spot_and_perp_style_futures(api: Api) -> None:
    body = api.get("/market/products").json()

    ids = [p["product_id"] for p in body["products"]]
    assert ids == ["BTC-USD", "ETH-USD", "BIP-20DEC30-CDE", "ETP-20DEC30-CDE"]
    assert body["num_products"] == 4
    assert body["pagination"] is None


def test_products_filter_by_type_and_ids(api: Api) -> None:
    futures = api.get("/products", product_type="FUTURE").json()["products"]
    chosen = api.get("/products", product_ids=["ETH-USD", "BIP-20DEC30-CDE"]).json()["products"]

    assert [p["product_id"] for p in futures] == ["BIP-20DEC30-CDE", "ETP-20DEC30-CDE"]
    assert [p["product_id"] for p in chosen] == ["ETH-USD", "BIP-20DEC30-CDE"]


def test_perp_style_product_carries_contract_and_funding_fields(api: Api) -> None:
    product = api.get("/market/products/BIP-20DEC30-CDE").json()
    details = product["future_product_details"]

    assert (product["base_increment"], product["base_min_size"], product["price_increment"]) == (
        "1",
        "1",
        "5",
    )
    assert product["product_venue"] == "FCM"
    assert details["contract_size"] == "0.01"
    assert details["funding_interval"] == "3600s"
    assert details["funding_rate"] == "0.000013"
    assert details["funding_time"] == "2026-01-01T01:00:00Z"
    assert details["contract_expiry_type"] == "EXPIRING"
    assert details["perpetual_details"]["funding_rate"] == ""
    assert details["intraday_margin_rate"]["long_margin_rate"] == "0.1000185"
    assert isinstance(product["price"], str)


def test_eth_perp_has_its_own_contract_size_and_tick(api: Api) -> None:
    product = api.get("/products/ETP-20DEC30-CDE").json()

    assert product["future_product_details"]["contract_size"] == "0.1"
    assert product["price_increment"] == "0.5"


def test_spot_product_has_the_full_payload(api: Api) -> None:
    product = api.get("/products/BTC-USD").json()

    assert product["base_increment"] == "0.00000001"
    assert product["quote_increment"] == "0.01"
    assert product["product_type"] == "SPOT"
    assert product["status"] == "online"
    assert product["trading_disabled"] is False
    assert "future_product_details" not in product


def test_unknown_product_is_a_404_with_coinbase_error_body(api: Api) -> None:
    response = api.get("/market/products/DOGE-USD")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_unknown_path_is_a_404_with_the_same_schema(api: Api) -> None:
    response = api.get("/intx/positions/some-uuid")

    assert response.status_code == 404
    assert set(response.json()) == {"error", "error_details", "message"}
    assert response.json()["error"] == "NOT_FOUND"


def test_product_book_has_sorted_levels_and_derived_fields(api: Api) -> None:
    body = api.get("/market/product_book", product_id="BTC-USD", limit=3).json()
    bids = [Decimal(level["price"]) for level in body["pricebook"]["bids"]]
    asks = [Decimal(level["price"]) for level in body["pricebook"]["asks"]]

    assert len(bids) == len(asks) == 3
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    assert Decimal(body["spread_absolute"]) == asks[0] - bids[0]
    assert Decimal(body["mid_market"]) == (asks[0] + bids[0]) / 2


def test_best_bid_ask_gives_one_pricebook_per_product(api: Api) -> None:
    body = api.get("/best_bid_ask", product_ids=["BTC-USD", "ETP-20DEC30-CDE"]).json()

    books = body["pricebooks"]
    assert [b["product_id"] for b in books] == ["BTC-USD", "ETP-20DEC30-CDE"]
    assert all(len(b["bids"]) == 1 and len(b["asks"]) == 1 for b in books)


def test_ticker_returns_recent_trades_and_the_best_prices(api: Api, sim: SimExchange) -> None:
    sim.step(30)

    body = api.get("/market/products/ETH-USD/ticker", limit=5).json()

    assert 1 <= len(body["trades"]) <= 5
    assert {t["side"] for t in body["trades"]} <= {"BUY", "SELL"}
    assert all(t["product_id"] == "ETH-USD" for t in body["trades"])
    assert Decimal(body["best_bid"]) < Decimal(body["best_ask"])


def test_candles_come_newest_first_in_the_asked_granularity(api: Api, clock: FakeClock) -> None:
    end = clock.time_ns() // 10**9
    body = api.get(
        "/products/BTC-USD/candles", start=str(end - 6 * 3600), end=str(end), granularity="ONE_HOUR"
    ).json()

    starts = [int(c["start"]) for c in body["candles"]]
    assert len(starts) == 6
    assert starts == sorted(starts, reverse=True)
    assert all(s % 3600 == 0 for s in starts)
    candle = body["candles"][0]
    assert Decimal(candle["low"]) <= Decimal(candle["open"]) <= Decimal(candle["high"])


def test_candles_wider_than_350_buckets_are_refused(api: Api, clock: FakeClock) -> None:
    end = clock.time_ns() // 10**9
    response = api.get(
        "/market/products/BTC-USD/candles",
        start=str(end - 400 * 60),
        end=str(end),
        granularity="ONE_MINUTE",
    )

    assert response.status_code == 400
    assert response.json()["message"] == "start and end must be within 350 candles"


@pytest.mark.parametrize("path", ["/market/products/BTC-USD/candles", "/products/BTC-USD/candles"])
def test_candles_without_a_granularity_are_a_bad_argument(api: Api, path: str) -> None:
    response = api.get(path, start="1", end="2")

    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_ARGUMENT"


def test_rate_limit_headers_are_sent(api: Api) -> None:
    response = api.get("/accounts")

    assert response.headers["x-ratelimit-limit"] == "30"
    assert "x-ratelimit-remaining" in response.headers


def test_enforced_rate_limits_answer_429_until_the_bucket_refills(
    make_sim: Callable[..., SimExchange], http: requests.Session, clock: FakeClock
) -> None:
    sim = make_sim(enforce_rate_limits=True)
    api = Api(http, sim.rest_base_url)

    statuses = [api.get("/market/products/BTC-USD").status_code for _ in range(11)]
    clock.advance(1)

    assert statuses == [200] * 10 + [429]
    assert api.get("/market/products/BTC-USD").status_code == 200


def test_configured_rate_limits_answer_429_with_retry_after_past_the_configured_number(
    make_sim: Callable[..., SimExchange], http: requests.Session, clock: FakeClock
) -> None:
    sim = make_sim(enforce_rate_limits=True, public_per_s=3, private_per_s=5)
    api = Api(http, sim.rest_base_url)

    public = [api.get("/market/products/BTC-USD") for _ in range(4)]
    private = [api.get("/accounts") for _ in range(6)]

    assert [r.status_code for r in public] == [200] * 3 + [429]
    assert [r.status_code for r in private] == [200] * 5 + [429]
    for refused, limit in ((public[-1], "3"), (private[-1], "5")):
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["x-ratelimit-limit"] == limit
        assert refused.headers["x-ratelimit-remaining"] == "0"
    clock.advance(1)
    assert api.get("/market/products/BTC-USD").status_code == 200
    assert api.get("/accounts").status_code == 200


def test_products_filtered_by_contract_expiry_type_are_the_futures(api: Api) -> None:
    products = api.get("/market/products", contract_expiry_type="EXPIRING").json()["products"]

    assert [p["product_id"] for p in products] == ["BIP-20DEC30-CDE", "ETP-20DEC30-CDE"]
