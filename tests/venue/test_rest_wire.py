"""The REST client on exact wire bodies from the reference, served by a canned loopback server."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

import jwt
import msgspec
import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import (
    OrderOutcomeUnknownError,
    OrderRejectedError,
    VenueAuthError,
    VenueResponseError,
)
from perpsbot.venue import (
    Backoff,
    CdpCredentials,
    JwtSigner,
    LimitGtc,
    MarginType,
    OrderRequest,
    OrderSide,
    RestClient,
    RetryPolicy,
    VenueRateLimiter,
)
from tests.venue.canned_http import Canned, CannedServer, canned_server
from tests.venue.conftest import FakeWait

PREFIX = "/api/v3/brokerage"
PERP_PRODUCT = {
    "product_id": "BIP-20DEC30-CDE", "price": "68930", "base_increment": "1",
    "quote_increment": "0.01", "base_min_size": "1", "base_max_size": "5000",
    "status": "", "product_type": "FUTURE", "price_increment": "5", "display_name": "BTC PERP",
    "future_product_details": {
        "venue": "cde", "contract_code": "BIP", "contract_expiry": "2030-12-20T16:00:00Z",
        "contract_size": "0.01", "contract_root_unit": "BTC", "contract_expiry_type": "EXPIRING",
        "perpetual_details": {"open_interest": "183283", "funding_rate": "", "funding_time": None,
                              "max_leverage": ""},
        "funding_interval": "3600s", "open_interest": "183283", "funding_rate": "0.000013",
        "funding_time": "2026-04-07T00:00:00Z", "display_name": "BTC Perpetual",
        "intraday_margin_rate": {"long_margin_rate": "0.1000185", "short_margin_rate": "0.1000008"},
        "overnight_margin_rate": {"long_margin_rate": "0.245625", "short_margin_rate": "0.306375"},
        "index_price": "68899.882564",
    },
}  # fmt: skip


@pytest.fixture
def server() -> Iterator[CannedServer]:
    with canned_server() as canned:
        yield canned


@pytest.fixture
def client(server: CannedServer, credentials: CdpCredentials) -> Iterator[RestClient]:
    clock = FakeClock()
    client = RestClient(
        base_url=server.base_url,
        signer=JwtSigner(credentials, clock=clock),
        limiter=VenueRateLimiter(clock=clock, wait=FakeWait(clock)),
        retry=RetryPolicy(max_attempts=3, backoff=Backoff(initial_s=0.1, jitter=0)),
        rng=random.Random(0),
        timeout_s=1.0,
    )
    yield client
    client.close()


def _json(status: int, body: object, **headers: str) -> Canned:
    return Canned(status, msgspec.json.encode(body), headers)


def _order_request(coid: str = "bot-7f3c9a2e") -> OrderRequest:
    return OrderRequest(
        client_order_id=coid,
        product_id="BIP-20DEC30-CDE",
        side=OrderSide.BUY,
        configuration=LimitGtc(base_size=Decimal(2), limit_price=Decimal(68900), post_only=True),
        leverage=Decimal(3),
        margin_type=MarginType.CROSS,
    )


def test_order_body_matches_the_documented_request(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("POST", f"{PREFIX}/orders", _json(200, {
        "success": True,
        "success_response": {"order_id": "o-1", "product_id": "BIP-20DEC30-CDE", "side": "BUY",
                             "client_order_id": "bot-7f3c9a2e"},
    }))  # fmt: skip
    created = client.create_order(_order_request())
    assert created.order_id == "o-1"
    assert msgspec.json.decode(server.seen[0].body) == {
        "client_order_id": "bot-7f3c9a2e",
        "product_id": "BIP-20DEC30-CDE",
        "side": "BUY",
        "order_configuration": {
            "limit_limit_gtc": {"base_size": "2", "limit_price": "68900", "post_only": True}
        },
        "leverage": "3",
        "margin_type": "CROSS",
    }


def test_request_is_signed_for_its_method_host_and_path_without_query(
    server: CannedServer, client: RestClient, public_pem: str
) -> None:
    server.answer(
        "GET", f"{PREFIX}/orders/historical/batch", _json(200, {"orders": [], "cursor": ""})
    )
    client.list_orders(product_ids=["BTC-USD"])
    seen = server.seen[0]
    assert seen.query["product_ids"] == ["BTC-USD"]
    token = seen.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(
        token, public_pem, algorithms=["ES256"], options={"verify_nbf": False, "verify_exp": False}
    )
    host = server.base_url.split("/")[2]
    assert claims["uri"] == f"GET {host}{PREFIX}/orders/historical/batch"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ({"success": False, "error_response": {
            "error": "INSUFFICIENT_FUND", "message": "Insufficient balance in source account",
            "error_details": "", "preview_failure_reason": "PREVIEW_INSUFFICIENT_FUND",
            "new_order_failure_reason": "UNKNOWN_FAILURE_REASON"}}, "INSUFFICIENT_FUND"),
        ({"success": False, "error_response": {
            "error": "UNKNOWN_FAILURE_REASON", "message": "",
            "new_order_failure_reason": "INVALID_LIMIT_PRICE_POST_ONLY"}},
         "INVALID_LIMIT_PRICE_POST_ONLY"),
    ],
)  # fmt: skip
def test_http_200_success_false_is_a_rejection_with_its_reason(
    server: CannedServer, client: RestClient, reply: dict[str, object], reason: str
) -> None:
    server.answer("POST", f"{PREFIX}/orders", _json(200, reply))
    with pytest.raises(OrderRejectedError) as caught:
        client.create_order(_order_request())
    assert caught.value.reason == reason
    assert len(server.seen) == 1  # a rejection is final: never retried


def test_bare_text_401_is_an_auth_error(server: CannedServer, client: RestClient) -> None:
    server.answer("GET", f"{PREFIX}/accounts", Canned(401, b"Unauthorized"))
    with pytest.raises(VenueAuthError, match="401: Unauthorized"):
        client.accounts()


def test_403_missing_scopes_is_an_auth_error_naming_the_problem(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("GET", f"{PREFIX}/cfm/positions", _json(403, {
        "error": "PERMISSION_DENIED", "error_details": "Missing required scopes",
        "message": "Missing required scopes"}))  # fmt: skip
    with pytest.raises(VenueAuthError, match="PERMISSION_DENIED: Missing required scopes"):
        client.cfm_positions()


def test_400_is_a_response_error_that_is_not_retried(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("GET", f"{PREFIX}/orders/historical/None", _json(400, {
        "error": "INVALID_ARGUMENT", "error_details": "invalid OrderId None passed to endpoint",
        "message": "invalid OrderId None passed to endpoint"}))  # fmt: skip
    with pytest.raises(VenueResponseError) as caught:
        client.get_order("None")
    assert caught.value.status == 400
    assert len(server.seen) == 1


def test_a_200_that_is_not_json_is_a_response_error(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("GET", f"{PREFIX}/time", Canned(200, b"<html>maintenance</html>"))
    with pytest.raises(VenueResponseError, match="must answer JSON"):
        client.server_time()


def test_perp_style_product_reads_funding_from_the_top_level(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("GET", f"{PREFIX}/market/products/BIP-20DEC30-CDE", _json(200, PERP_PRODUCT))
    product = client.product("BIP-20DEC30-CDE")
    assert product.is_perpetual
    assert product.future is not None
    assert product.future.funding_rate == Decimal("0.000013")
    assert product.future.funding_interval_s == 3600
    assert product.future.intraday_long_margin_rate == Decimal("0.1000185")
    assert product.future.max_leverage is None
    assert product.price_increment == Decimal(5)


def test_cfm_amount_objects_and_plain_strings_both_parse(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("GET", f"{PREFIX}/cfm/positions", _json(200, {"positions": [
        {"product_id": "BIP-20DEC30-CDE", "expiration_time": "2030-12-20T16:00:00Z",
         "side": "SHORT", "number_of_contracts": "2", "current_price": "68930",
         "avg_entry_price": {"value": "68800", "currency": "USD"}, "unrealized_pnl": "2.60",
         "daily_realized_pnl": "0"}]}))  # fmt: skip
    server.answer("GET", f"{PREFIX}/cfm/balance_summary", _json(200, {"balance_summary": {
        "futures_buying_power": {"value": "5000.00", "currency": "USD"},
        "available_margin": "800.00", "liquidation_buffer_percentage": "1000"}}))  # fmt: skip
    (position,) = client.cfm_positions()
    assert position.signed_contracts == -2
    assert position.avg_entry_price == Decimal(68800)
    summary = client.cfm_balance_summary()
    assert summary.futures_buying_power == Decimal(5000)
    assert summary.available_margin == Decimal(800)


@pytest.mark.parametrize(
    ("level", "error"),
    [
        (
            {"price": "68930", "size": "abc"},
            r"pricebooks\[0\]\.asks\[0\]\.size must be a decimal string",
        ),
        (
            {"price": "NaN", "size": "1"},
            r"pricebooks\[0\]\.asks\[0\]\.price must be a finite decimal",
        ),
        (
            {"price": 68930.5, "size": "1"},
            r"asks\[0\]\.price must be a decimal string, found 68930.5",
        ),
        ({"price": "68930"}, r"asks\[0\]\.size must be a decimal string, found 'nothing'"),
        (["68930", "1"], r"pricebooks\[0\]\.asks\[0\] must be an object"),
    ],
)
def test_a_bad_book_level_is_refused_naming_it(
    server: CannedServer, client: RestClient, level: object, error: str
) -> None:
    book = {"product_id": "BIP-20DEC30-CDE", "bids": [{"price": "68925", "size": "3"}],
            "asks": [level], "time": "2026-04-07T00:00:00.5Z"}  # fmt: skip
    server.answer("GET", f"{PREFIX}/best_bid_ask", _json(200, {"pricebooks": [book]}))
    with pytest.raises(VenueResponseError, match=error):
        client.best_bid_ask(["BIP-20DEC30-CDE"])


def test_a_book_of_decimal_strings_and_amount_objects_reads_exactly(
    server: CannedServer, client: RestClient
) -> None:
    book = {"product_id": "BIP-20DEC30-CDE", "bids": [{"price": "68925.50", "size": "3"}],
            "asks": [{"price": {"value": "68930.05"}, "size": 2}],
            "time": "2026-04-07T00:00:00.5Z"}  # fmt: skip
    server.answer("GET", f"{PREFIX}/best_bid_ask", _json(200, {"pricebooks": [book]}))
    (top,) = client.best_bid_ask(["BIP-20DEC30-CDE"])
    assert (top.bid, top.bid_size, top.ask, top.ask_size) == (
        Decimal("68925.50"),
        Decimal(3),
        Decimal("68930.05"),
        Decimal(2),
    )
    assert top.ts_ns == 1_775_520_000_500_000_000


def test_order_pages_are_followed_by_cursor(server: CannedServer, client: RestClient) -> None:
    def order(i: int) -> dict[str, object]:
        return {"order_id": f"o-{i}", "product_id": "BTC-USD", "client_order_id": f"c-{i}",
                "side": "BUY", "status": "OPEN", "order_configuration": {
                    "limit_limit_gtc": {"base_size": "0.001", "limit_price": "10000.00",
                                        "post_only": False}}}  # fmt: skip

    server.answer(
        "GET",
        f"{PREFIX}/orders/historical/batch",
        _json(200, {"orders": [order(1), order(2)], "has_next": True, "cursor": "2"}),
        _json(200, {"orders": [order(3)], "has_next": False, "cursor": ""}),
    )
    orders = client.list_orders()
    assert [o.order_id for o in orders] == ["o-1", "o-2", "o-3"]
    assert orders[0].limit_price == Decimal("10000.00")
    assert server.seen[1].query["cursor"] == ["2"]


def test_create_that_keeps_failing_in_transit_is_an_unknown_outcome(
    server: CannedServer, client: RestClient
) -> None:
    server.answer("POST", f"{PREFIX}/orders", _json(503, {"error": "UNAVAILABLE"}))
    server.answer(
        "GET", f"{PREFIX}/orders/historical/batch", _json(200, {"orders": [], "cursor": ""})
    )
    with pytest.raises(OrderOutcomeUnknownError) as caught:
        client.create_order(_order_request("c-unknown"))
    assert caught.value.client_order_id == "c-unknown"
    posts = [s for s in server.seen if s.method == "POST"]
    lookups = [s for s in server.seen if s.method == "GET"]
    assert len(posts) == 3
    assert len(lookups) == 3  # every failed create was looked up before the next attempt
    assert {msgspec.json.decode(p.body)["client_order_id"] for p in posts} == {"c-unknown"}


_DUPLICATE = "DUPLICATE_CLIENT_ORDER_ID"


@pytest.mark.parametrize(
    "refusal",
    [
        {"success": False, "error_response": {
            "error": "UNKNOWN_FAILURE_REASON", "message": "", "error_details": "",
            "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
            "new_order_failure_reason": _DUPLICATE}},
        {"success": False, "error_response": {"error": _DUPLICATE, "message": "duplicate"}},
        {"success": False, "error_response": {
            "error": "INVALID_REQUEST", "preview_failure_reason": _DUPLICATE}},
        {"success": False, "failure_reason": _DUPLICATE, "order_id": ""},
    ],
    ids=["new_order_failure_reason", "error", "preview_failure_reason", "top-level"],
)  # fmt: skip
def test_a_refusal_naming_a_duplicate_id_in_any_reason_field_reports_the_listed_order(
    server: CannedServer, client: RestClient, refusal: dict[str, object]
) -> None:
    listed = {"order_id": "o-dup", "product_id": "BIP-20DEC30-CDE", "client_order_id": "c-dup",
              "side": "BUY", "status": "OPEN", "order_configuration": {
                  "limit_limit_gtc": {"base_size": "2", "limit_price": "68900",
                                      "post_only": True}}}  # fmt: skip
    server.answer("POST", f"{PREFIX}/orders", _json(200, refusal))
    server.answer(
        "GET", f"{PREFIX}/orders/historical/batch", _json(200, {"orders": [listed], "cursor": ""})
    )
    created = client.create_order(_order_request("c-dup"))
    assert (created.order_id, created.client_order_id) == ("o-dup", "c-dup")
    assert [s.method for s in server.seen] == ["POST", "GET"]  # looked up, never resent
