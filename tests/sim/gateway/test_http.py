"""The simulated gateway over HTTP: the token exchange, market data, orders and lookups."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests

from perpsbot.clock import FakeClock
from perpsbot.sim.gateway import GatewayConfig, SimGlobalGateway
from tests.sim.conftest import Keys
from tests.sim.gateway.conftest import BTC, ETH, LENIENT, TIMEOUT_S, HttpRpc


def _buy(rpc: HttpRpc, **params: Any) -> dict[str, Any]:
    return dict(rpc.result("private/buy", instrument_name=BTC, **params))


def test_instruments_are_the_linear_usdc_perpetuals(
    gateway: SimGlobalGateway, rpcs: Callable[[str], HttpRpc]
) -> None:
    rpc = rpcs(gateway.http_url)
    listed = rpc.result("public/get_instruments", currency="USDC", kind="future")
    by_name = {i["instrument_name"]: i for i in listed}
    assert set(by_name) == {BTC, ETH}
    btc = by_name[BTC]
    assert (btc["instrument_type"], btc["settlement_period"], btc["settlement_currency"]) == (
        "linear",
        "perpetual",
        "USDC",
    )
    assert (btc["contract_size"], btc["tick_size"], btc["tick_size_steps"]) == (0.01, 5, [])


def test_numbers_are_sent_as_json_numbers(gateway: SimGlobalGateway) -> None:
    params = {"instrument_name": BTC}
    body = {"jsonrpc": "2.0", "id": 1, "method": "public/ticker", "params": params}
    text = requests.post(f"{gateway.http_url}/public/ticker", json=body, timeout=TIMEOUT_S).text
    assert '"mark_price":' in text
    assert '"mark_price":"' not in text


def test_a_private_method_without_a_token_is_unauthorized(
    gateway: SimGlobalGateway, rpcs: Callable[[str], HttpRpc]
) -> None:
    error = rpcs(gateway.http_url).error("private/get_account_summary", currency="USDC")
    assert error["code"] == 13009


def test_a_cdp_key_signed_jwt_is_exchanged_for_a_bearer_token(
    make_gateway: Callable[..., SimGlobalGateway],
    keys: Keys,
    clock: FakeClock,
    rpcs: Callable[[str], HttpRpc],
) -> None:
    gateway = make_gateway(verify_auth=True, public_keys_pem=(keys.public_pem,))
    rpc = rpcs(gateway.http_url)
    jwt = keys.token(now_s=clock.time_ns() / 1e9)
    answer = rpc.result("public/auth", grant_type="coinbase_cdp", token=jwt)
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 900
    rpc.token = answer["access_token"]
    assert rpc.result("private/get_account_summary", currency="USDC")["currency"] == "USDC"


def test_a_jwt_not_signed_by_a_known_key_is_invalid_credentials(
    make_gateway: Callable[..., SimGlobalGateway],
    keys: Keys,
    clock: FakeClock,
    rpcs: Callable[[str], HttpRpc],
) -> None:
    gateway = make_gateway(verify_auth=True, public_keys_pem=(Keys().public_pem,))
    jwt = keys.token(now_s=clock.time_ns() / 1e9)
    error = rpcs(gateway.http_url).error("public/auth", grant_type="coinbase_cdp", token=jwt)
    assert error["code"] == 13004


def test_an_expired_token_is_refused_and_a_refresh_token_renews_access(
    gateway: SimGlobalGateway, clock: FakeClock, rpcs: Callable[[str], HttpRpc]
) -> None:
    rpc = rpcs(gateway.http_url)
    first = rpc.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    rpc.token = first["access_token"]
    clock.advance(first["expires_in"])
    assert rpc.error("private/get_positions", currency="USDC")["code"] == 13009
    renewed = rpc.result(
        "public/auth", grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    rpc.token = renewed["access_token"]
    assert rpc.result("private/get_positions", currency="USDC") == []


def test_a_market_buy_opens_a_long_with_margin_and_a_liquidation_price(rpc: HttpRpc) -> None:
    placed = _buy(rpc, contracts=30, type="market", label="pb-long")
    assert placed["order"]["order_state"] == "filled"
    assert placed["order"]["original_order_type"] == "market"
    assert sum(Decimal(str(t["contracts"])) for t in placed["trades"]) == 30
    (position,) = rpc.result("private/get_positions", currency="USDC", kind="future")
    assert (position["direction"], position["size"]) == ("buy", 0.3)
    assert 0 < position["estimated_liquidation_price"] < position["mark_price"]
    summary = rpc.result("private/get_account_summary", currency="USDC")
    assert summary["maintenance_margin"] > 0
    assert summary["margin_balance"] > 0


def test_a_sell_opens_a_short_whose_liquidation_price_is_above_the_mark(rpc: HttpRpc) -> None:
    rpc.result("private/sell", instrument_name=ETH, amount=0.3, type="market", label="pb-s")
    (position,) = rpc.result("private/get_positions", currency="USDC")
    assert (position["direction"], position["size"]) == ("sell", -0.3)
    assert position["estimated_liquidation_price"] > position["mark_price"]


def test_a_resting_order_is_found_by_label_and_then_cancelled(rpc: HttpRpc) -> None:
    bid = rpc.result("public/ticker", instrument_name=BTC)["best_bid_price"]
    order = _buy(rpc, contracts=1, type="limit", price=bid - 500, label="pb-rest")["order"]
    assert order["order_state"] == "open"
    by_label = rpc.result("private/get_open_orders_by_label", currency="BTC", label="pb-rest")
    assert [o["order_id"] for o in by_label] == [order["order_id"]]
    state = rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-rest")
    assert [o["order_state"] for o in state] == ["open"]
    assert rpc.result("private/cancel", order_id=order["order_id"])["order_state"] == "cancelled"
    assert rpc.error("private/cancel", order_id=order["order_id"])["code"] == 10010


def test_two_orders_with_one_label_are_both_placed(rpc: HttpRpc) -> None:
    first = _buy(rpc, contracts=1, type="market", label="pb-twice")["order"]
    second = _buy(rpc, contracts=1, type="market", label="pb-twice")["order"]
    assert first["order_id"] != second["order_id"]
    trades = rpc.result("private/get_user_trades_by_instrument", instrument_name=BTC, count=50)
    assert {t["label"] for t in trades["trades"]} == {"pb-twice"}
    assert {t["order_id"] for t in trades["trades"]} == {first["order_id"], second["order_id"]}


def test_an_order_that_reaches_matching_after_valid_until_is_timed_out_and_not_placed(
    rpc: HttpRpc, clock: FakeClock
) -> None:
    now_ms = rpc.result("public/get_time")
    clock.advance(1.0)
    error = rpc.error(
        "private/buy",
        instrument_name=BTC,
        contracts=1,
        type="market",
        label="pb-late",
        valid_until=now_ms + 500,
    )
    assert error["message"] == "timed_out"
    assert rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-late") == []


def test_history_lists_a_fully_unfilled_closed_order_only_with_include_unfilled(
    rpc: HttpRpc,
) -> None:
    bid = rpc.result("public/ticker", instrument_name=BTC)["best_bid_price"]
    order = _buy(rpc, contracts=1, type="limit", price=bid - 500, label="pb-unfilled")["order"]
    rpc.result("private/cancel", order_id=order["order_id"])
    plain = rpc.result("private/get_order_history_by_instrument", instrument_name=BTC)
    unfilled = rpc.result(
        "private/get_order_history_by_instrument", instrument_name=BTC, include_unfilled=True
    )
    assert plain == []
    assert [o["label"] for o in unfilled] == ["pb-unfilled"]


def test_an_unknown_order_is_order_not_found(rpc: HttpRpc) -> None:
    assert rpc.error("private/get_order_state", order_id="nope")["code"] == 10004


def test_an_order_beyond_the_margin_is_not_enough_funds(rpc: HttpRpc) -> None:
    error = rpc.error("private/buy", instrument_name=BTC, contracts=4000, type="market", label="x")
    assert error["code"] == 10009


def test_a_size_that_is_not_whole_contracts_is_refused(rpc: HttpRpc) -> None:
    error = rpc.error("private/buy", instrument_name=BTC, amount=0.015, type="market", label="x")
    assert error["code"] == 10002


def test_heartbeats_are_websocket_only(rpc: HttpRpc) -> None:
    assert rpc.error("public/set_heartbeat", interval=10)["code"] == -32601


def test_requests_beyond_the_credits_are_too_many_requests(
    make_gateway: Callable[..., SimGlobalGateway], rpcs: Callable[[str], HttpRpc]
) -> None:
    config = GatewayConfig(credit_pool=1000, credit_cost=500, credit_refill_per_s=1)
    rpc = rpcs(make_gateway(config).http_url)
    rpc.result("public/get_time")
    rpc.result("public/get_time")
    assert rpc.error("public/get_time")["code"] == 10028
    assert LENIENT.credit_pool > config.credit_pool
