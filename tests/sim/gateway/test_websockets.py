"""The simulated gateway's two WebSockets: hosts, subscriptions, notifications, heartbeats."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import websocket

from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from tests.sim.gateway.conftest import BTC, WsRpc

Open = Callable[[str], WsRpc]


def _trading(gateway: SimGlobalGateway, sockets: Open) -> WsRpc:
    ws = sockets(gateway.trading_ws_url)
    ws.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    return ws


def test_the_streams_host_refuses_every_method_but_subscriptions_and_heartbeats(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.streams_ws_url)
    assert ws.call("public/auth", grant_type="coinbase_cdp", token="jwt")["error"]["code"] == -32601
    assert ws.call("public/get_time")["error"]["code"] == -32601
    assert ws.result("public/test") == {"version": "2.1.1"}


def test_the_trading_host_refuses_public_subscribe(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = _trading(gateway, sockets)
    answer = ws.call("public/subscribe", channels=[f"book.{BTC}.100ms"])
    assert answer["error"]["code"] == -32601


def test_private_methods_on_the_trading_socket_need_auth_on_that_socket(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.trading_ws_url)
    assert ws.call("private/get_positions", currency="USDC")["error"]["code"] == 13009
    ws.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    assert ws.result("private/get_positions", currency="USDC") == []


def test_a_subscribe_answers_only_the_channels_the_host_serves(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    streams = sockets(gateway.streams_ws_url)
    asked = [f"ticker.{BTC}.100ms", f"user.orders.{BTC}.raw", "book.NOPE-PERPETUAL.100ms"]
    assert streams.result("public/subscribe", channels=asked) == [f"ticker.{BTC}.100ms"]
    trading = _trading(gateway, sockets)
    asked = [f"user.orders.{BTC}.raw", f"book.{BTC}.100ms", "user.portfolio.usdc"]
    assert trading.result("private/subscribe", channels=asked) == [
        f"user.orders.{BTC}.raw",
        "user.portfolio.usdc",
    ]


def test_a_book_starts_with_a_snapshot_and_each_change_names_the_one_before(
    gateway: SimGlobalGateway, sockets: Open, sim: SimExchange
) -> None:
    ws = sockets(gateway.streams_ws_url)
    ws.result("public/subscribe", channels=[f"book.{BTC}.100ms"])
    snapshot = ws.notice(f"book.{BTC}.100ms")
    assert snapshot["type"] == "snapshot"
    assert snapshot["bids"][0][0] == "new"
    sim.step(3)
    first = ws.notice(f"book.{BTC}.100ms")
    second = ws.notice(f"book.{BTC}.100ms")
    assert first["prev_change_id"] == snapshot["change_id"]
    assert second["prev_change_id"] == first["change_id"]


def test_the_ticker_and_perpetual_channels_carry_the_funding_rate(
    gateway: SimGlobalGateway, sockets: Open, sim: SimExchange
) -> None:
    ws = sockets(gateway.streams_ws_url)
    ws.result("public/subscribe", channels=[f"ticker.{BTC}.100ms", f"perpetual.{BTC}.100ms"])
    sim.step(2)
    ticker = ws.notice(f"ticker.{BTC}.100ms")
    funding = ws.notice(f"perpetual.{BTC}.100ms")
    assert ticker["current_funding"] == funding["interest"] != 0
    assert funding["index_price"] > 0


def test_an_order_reaches_the_user_channels_with_its_trade_and_the_portfolio(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = _trading(gateway, sockets)
    channels = [f"user.orders.{BTC}.raw", f"user.trades.{BTC}.raw", "user.portfolio.usdc"]
    assert ws.result("private/subscribe", channels=channels) == channels
    placed = ws.result("private/buy", instrument_name=BTC, contracts=3, type="market", label="pb-u")
    order_id = placed["order"]["order_id"]

    def ours(data: Any) -> bool:
        return bool(data["order_id"] == order_id and data["order_state"] == "filled")

    assert ws.notice(f"user.orders.{BTC}.raw", ours)["label"] == "pb-u"
    trades = ws.notice(f"user.trades.{BTC}.raw")
    assert sum(Decimal(str(t["contracts"])) for t in trades) == 3
    assert ws.notice("user.portfolio.usdc")["currency"] == "USDC"


def test_a_heartbeat_interval_below_the_floor_is_invalid_params(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.streams_ws_url)
    assert ws.call("public/set_heartbeat", interval=0.01)["error"]["code"] == -32602


def test_an_unanswered_test_request_closes_the_socket(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.streams_ws_url)
    assert ws.result("public/set_heartbeat", interval=0.05) == "ok"
    assert ws.next_message()["params"] == {"type": "test_request"}
    # Nothing answered: the next beat closes the socket instead of testing again.
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.next_message()


@pytest.mark.slow  # long: the heartbeat and its test request come at their real interval
def test_an_answered_test_request_keeps_the_socket_open(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.streams_ws_url)
    ws.result("public/set_heartbeat", interval=0.5)  # time to answer, even under load
    for _ in range(3):
        assert ws.next_message()["params"] == {"type": "test_request"}
        ws.result("public/test")
    assert gateway.tests_answered == 3
