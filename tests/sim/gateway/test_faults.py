"""The simulated gateway's faults: drops, delays, too_many_requests, lost answers, bad frames."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests
import websocket

from perpsbot.clock import FakeClock
from perpsbot.sim.gateway import SimGlobalGateway
from tests.sim.gateway.conftest import BTC, HttpRpc, WsRpc

Open = Callable[[str], WsRpc]


def test_a_dropped_connection_ends_both_sockets(gateway: SimGlobalGateway, sockets: Open) -> None:
    streams, trading = sockets(gateway.streams_ws_url), sockets(gateway.trading_ws_url)
    streams.result("public/test")
    trading.result("public/test")
    gateway.faults.drop_connections()
    for ws in (streams, trading):
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            ws.next_message()


def test_too_many_requests_answers_10028_and_ends_the_session(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.trading_ws_url)
    gateway.faults.too_many_requests()
    assert ws.call("public/get_time")["error"]["code"] == 10028
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.next_message()


def test_too_many_requests_for_orders_only_leaves_other_requests_alone(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.trading_ws_url)
    ws.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    gateway.faults.too_many_requests(orders_only=True)
    ws.result("public/test")  # a heartbeat's answer, say: not what the fault is for
    answer = ws.call("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-t")
    assert answer["error"]["code"] == 10028
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.next_message()


def test_a_lost_answer_over_http_places_the_order_and_closes_the_connection(
    rpc: HttpRpc, gateway: SimGlobalGateway
) -> None:
    gateway.faults.lose_answers()
    with pytest.raises(requests.ConnectionError):
        rpc.call("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-lost")
    found = rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-lost")
    assert [o["order_state"] for o in found] == ["filled"]


def test_a_lost_answer_over_a_websocket_never_comes_and_the_socket_goes_on(
    gateway: SimGlobalGateway, sockets: Open
) -> None:
    ws = sockets(gateway.trading_ws_url)
    ws.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    gateway.faults.lose_answers()
    lost = ws.send("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-l")
    answer = ws.call("private/get_open_orders_by_label", currency="BTC", label="pb-l")
    assert answer["result"] == []  # filled at once: not open, and its own answer never came
    assert all(message.get("id") != lost for message in ws.notices)


def test_a_slow_request_meets_its_valid_until_after_the_delay(
    gateway: SimGlobalGateway, sockets: Open, clock: FakeClock
) -> None:
    ws = sockets(gateway.trading_ws_url)
    ws.result("public/auth", grant_type="coinbase_cdp", token="jwt")
    now_ms = ws.result("public/get_time")
    gateway.faults.slow_requests(0.2)
    request_id = ws.send(
        "private/buy",
        instrument_name=BTC,
        contracts=1,
        type="market",
        label="pb-slow",
        valid_until=now_ms + 100,
    )
    clock.advance(1.0)  # the venue's clock passes valid_until while the request is held
    assert ws.answer(request_id)["error"]["message"] == "timed_out"


def test_a_malformed_frame_reaches_every_socket(gateway: SimGlobalGateway, sockets: Open) -> None:
    ws = sockets(gateway.streams_ws_url)
    ws.result("public/test")
    gateway.faults.malformed_frame("{not json")
    assert ws.ws.recv() == "{not json"


def test_an_unparseable_request_is_a_parse_error(gateway: SimGlobalGateway, sockets: Open) -> None:
    ws = sockets(gateway.streams_ws_url)
    ws.ws.send("{nope")
    assert json.loads(ws.ws.recv())["error"]["code"] == -32700


def test_orders_hidden_by_a_visibility_delay_are_absent_from_lookups(
    rpc: HttpRpc, gateway: SimGlobalGateway
) -> None:
    gateway.faults.delay_order_visibility(60.0)
    rpc.result("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-hid")
    assert rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-hid") == []


def test_a_duplicate_label_puts_a_strangers_order_with_that_label_before_ours(
    rpc: HttpRpc, gateway: SimGlobalGateway
) -> None:
    gateway.faults.duplicate_labels(contracts=1)
    ours = rpc.result(
        "private/buy", instrument_name=BTC, contracts=3, type="limit", price=5, label="pb-twin"
    )["order"]
    found = rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-twin")
    stranger = next(o for o in found if o["order_id"] != ours["order_id"])
    assert (stranger["direction"], stranger["contracts"], stranger["order_state"]) == (
        "buy", 1, "filled",
    )  # fmt: skip
    # Only the next order meets one.
    rpc.result("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-alone")
    assert (
        len(rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-alone")) == 1
    )


def test_a_duplicate_label_fault_refuses_a_count_below_one(gateway: SimGlobalGateway) -> None:
    with pytest.raises(ValueError, match="count and contracts must be whole numbers >= 1"):
        gateway.faults.duplicate_labels(count=0)


def test_a_refused_method_is_an_internal_error_carried_out_never(
    rpc: HttpRpc, gateway: SimGlobalGateway
) -> None:
    gateway.faults.refuse_method("private/buy")
    error = rpc.error("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-r")
    assert (error["code"], error["message"]) == (11094, "internal_server_error")
    assert rpc.result("private/get_order_state_by_label", currency="BTC", label="pb-r") == []
    rpc.result("private/buy", instrument_name=BTC, contracts=1, type="market", label="pb-r")
