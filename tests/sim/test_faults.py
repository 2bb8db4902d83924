"""Every injected fault does what it says, is logged, and can be armed over HTTP too."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable

import pytest
import requests
import websocket

from perpsbot.clock import FakeClock
from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimExchange
from tests.sim.conftest import TIMEOUT_S, Api, Feed, Keys, accrued_funding


def _close_code(feed: Feed) -> int:
    """The code of the close frame, past the heartbeats sent before it (one every 50 ms: on
    a busy machine some are still on their way when the close is)."""
    opcode, data = feed.ws.recv_data(control_frame=True)
    while opcode == websocket.ABNF.OPCODE_TEXT and json.loads(data)["channel"] == "heartbeats":
        opcode, data = feed.ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    return int.from_bytes(data[:2], "big")


@pytest.mark.parametrize("code", [1000, 1011])
def test_disconnect_all_closes_every_socket_with_the_code(
    sim: SimExchange, connect: Callable[[str], Feed], code: int
) -> None:
    feeds = [connect(sim.market_ws_url), connect(sim.user_ws_url)]
    for feed in feeds:
        feed.subscribe("heartbeats")
        feed.next("subscriptions")

    sim.faults.disconnect_all(close_code=code)

    assert [_close_code(feed) for feed in feeds] == [code, code]


def test_disconnect_all_without_a_code_drops_tcp_without_a_close_frame(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.next("subscriptions")

    sim.faults.disconnect_all(close_code=None)

    with pytest.raises(websocket.WebSocketConnectionClosedException):
        feed.drain()


def test_refused_connections_get_503_until_the_sim_clock_passes_the_window(
    sim: SimExchange, clock: FakeClock, connect: Callable[[str], Feed]
) -> None:
    sim.faults.refuse_connections(for_s=30)

    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(sim.market_ws_url, timeout=TIMEOUT_S)
    clock.advance(30)
    feed = connect(sim.market_ws_url)

    assert refused.value.status_code == 503
    feed.subscribe("heartbeats")
    assert feed.recv()["channel"] == "subscriptions"


def test_sequence_gap_skips_exactly_n_numbers_once(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    ack = feed.recv()

    sim.faults.sequence_gap(3)

    numbers = [ack["sequence_num"]] + [feed.next("heartbeats")["sequence_num"] for _ in range(6)]
    steps = [b - a for a, b in itertools.pairwise(numbers)]
    assert sorted(steps) == [1, 1, 1, 1, 1, 4]


def test_stale_feed_keeps_heartbeats_but_stops_data(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("ticker", "BTC-USD")
    feed.next("ticker")
    feed.subscribe("heartbeats")
    feed.next("subscriptions")

    sim.faults.stale_feed(heartbeats=True)
    sim.step(3)

    assert [feed.recv()["channel"] for _ in range(5)] == ["heartbeats"] * 5


def test_stale_feed_without_heartbeats_goes_silent_and_resumes(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.next("heartbeats")

    sim.faults.stale_feed(heartbeats=False)
    feed.ws.settimeout(0.3)  # six heartbeat intervals
    with pytest.raises(websocket.WebSocketTimeoutException):
        feed.drain()  # at most the beats already queued, then silence
    feed.ws.settimeout(TIMEOUT_S)
    sim.faults.resume_feed()

    assert feed.next("heartbeats")["events"][0]["heartbeat_counter"] > 0


def test_malformed_frame_is_not_json(sim: SimExchange, connect: Callable[[str], Feed]) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.next("subscriptions")

    sim.faults.malformed_frame()

    for _ in range(100):
        raw = feed.ws.recv()
        try:
            json.loads(raw)
        except json.JSONDecodeError:
            break
    else:
        raise AssertionError("no malformed frame arrived")


def test_http_error_429_has_an_empty_body_and_retry_after_for_count_requests(
    sim: SimExchange, api: Api
) -> None:
    sim.faults.http_error(429, retry_after_s=2, count=2, path="/accounts")

    first, second, third = (api.get("/accounts") for _ in range(3))
    other = api.get("/time")

    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.content == b""
    assert first.headers["Retry-After"] == "2"
    assert other.status_code == 200


def test_http_error_5xx_can_carry_an_html_body(sim: SimExchange, api: Api) -> None:
    sim.faults.http_error(502, body="<html>bad gateway</html>")
    sim.faults.http_error(503)

    html, js = api.get("/time"), api.get("/time")

    assert (html.status_code, html.text) == (502, "<html>bad gateway</html>")
    assert js.status_code == 503
    assert js.json()["error"] == "INTERNAL"


def test_slow_responses_outlast_a_short_client_timeout_then_recover(
    sim: SimExchange, api: Api
) -> None:
    sim.faults.slow_responses(delay_s=2.0, count=1)

    with pytest.raises(requests.Timeout):
        api.session.get(api.base_url + "/time", timeout=0.2)

    assert api.get("/time").status_code == 200


def test_lost_order_ack_then_retry_with_the_same_client_order_id_gives_one_order(
    sim: SimExchange, api: Api
) -> None:
    sim.faults.lose_order_ack(count=1)
    body = {
        "client_order_id": "lost-1",
        "product_id": "BTC-USD",
        "side": "BUY",
        "order_configuration": {"market_market_ioc": {"base_size": "0.01"}},
    }

    with pytest.raises(requests.ConnectionError):
        api.post("/orders", body)
    listed = api.get("/orders/historical/batch").json()["orders"]
    retried = api.post("/orders", body).json()

    assert [o["client_order_id"] for o in listed] == ["lost-1"]
    assert retried["success_response"]["order_id"] == listed[0]["order_id"]
    assert len(api.get("/orders/historical/batch").json()["orders"]) == 1


def test_delayed_order_visibility_hides_new_orders_until_the_clock_passes(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    sim.faults.delay_order_visibility(5.0)
    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})
    order_id = reply["success_response"]["order_id"]

    hidden = api.get(f"/orders/historical/{order_id}").status_code
    listed_hidden = api.get("/orders/historical/batch").json()["orders"]
    clock.advance(5)

    assert (hidden, listed_hidden) == (404, [])
    assert api.get_order(order_id)["status"] == "FILLED"


def test_trading_disabled_refuses_new_orders(sim: SimExchange, api: Api) -> None:
    sim.faults.trading_disabled("ETH-USD")

    reply = api.order("c-1", "ETH-USD", "BUY", market_market_ioc={"base_size": "0.01"})

    assert reply["error_response"]["new_order_failure_reason"] == "UNTRADABLE_PRODUCT"
    assert api.get("/products/ETH-USD").json()["trading_disabled"] is True


def test_clear_disarms_every_fault(sim: SimExchange, api: Api) -> None:
    sim.faults.http_error(500, count=5)
    sim.faults.lose_order_ack(3)

    sim.faults.clear()

    assert api.get("/time").status_code == 200
    assert api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})["success"]


def test_every_fault_is_logged(sim: SimExchange, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="perpsbot.sim.faults"):
        sim.faults.http_error(429, count=1)
        sim.faults.sequence_gap(2)

    assert [r.kind for r in sim.faults.log] == ["http_error", "sequence_gap"]
    assert "sim fault injected: http_error" in caplog.text
    assert "sim fault injected: sequence_gap" in caplog.text


def test_the_control_endpoint_arms_faults_and_lists_them(
    sim: SimExchange, http: requests.Session
) -> None:
    armed = http.post(
        sim.control_url + "/faults",
        json={"fault": "http_error", "status": 500, "count": 1},
        timeout=TIMEOUT_S,
    )

    failed = http.get(sim.rest_base_url + "/time", timeout=TIMEOUT_S)
    log = http.get(sim.control_url + "/faults", timeout=TIMEOUT_S).json()

    assert armed.json() == {"ok": True}
    assert failed.status_code == 500
    assert log["faults"][0]["kind"] == "http_error"


def test_the_control_endpoint_refuses_unknown_faults(
    sim: SimExchange, http: requests.Session
) -> None:
    response = http.post(
        sim.control_url + "/faults", json={"fault": "format_disk"}, timeout=TIMEOUT_S
    )

    assert response.status_code == 400
    assert "fault must be one of" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"fault": "price_jump", "product_id": "FOO-BAR", "fraction": 0.1}, "product_id"),
        ({"fault": "price_jump", "product_id": "BTC-USD", "fraction": -1}, "fraction"),
        ({"fault": "funding_rate", "product_id": "BIP-20DEC30-CDE", "rate": "abc"}, "rate"),
        ({"fault": "funding_rate", "product_id": "BIP-20DEC30-CDE", "rate": "NaN"}, "rate"),
        ({"fault": "http_error", "status": "x"}, "status"),
        ({"fault": "http_error", "status": 200}, "status"),
        ({"fault": "http_error", "retry_after_s": "soon"}, "retry_after_s"),
        ({"fault": "oversized_frame", "size_bytes": 10**12}, "size_bytes"),
        ({"fault": "slow_responses", "delay_s": "1"}, "delay_s"),
        ({"fault": "reject_subscribes", "count": "many"}, "count"),
        ({"fault": "duplicate_frames", "count": True}, "count"),
        ({"fault": "disconnect_all", "close_code": 1005}, "close_code"),
        ({"fault": "malformed_frame", "text": 5}, "text"),
        ({"fault": "sequence_gap", "n": 0}, "n"),
        ({"fault": "delay_order_visibility", "delay_s": -1}, "delay_s"),
        ({"fault": "duplicate_client_order_id", "behaviour": "ignore"}, "behaviour"),
        ({"fault": "http_error", "colour": "red"}, "colour"),
    ],
)
def test_a_fault_with_a_bad_parameter_is_a_400_naming_it_and_arms_nothing(
    sim: SimExchange, http: requests.Session, body: dict[str, object], named: str
) -> None:
    response = http.post(sim.control_url + "/faults", json=body, timeout=TIMEOUT_S)
    after = http.get(sim.rest_base_url + "/time", timeout=TIMEOUT_S)
    log = http.get(sim.control_url + "/faults", timeout=TIMEOUT_S).json()

    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert f"{body['fault']}" in response.json()["message"]
    assert named in response.json()["message"]
    assert after.status_code == 200
    assert log == {"faults": []}


@pytest.mark.parametrize("n", [300_000, 0, "3", 2.5])
def test_stepping_is_bounded_and_typed(sim: SimExchange, http: requests.Session, n: object) -> None:
    response = http.post(sim.control_url + "/step", json={"n": n}, timeout=TIMEOUT_S)

    assert response.status_code == 400
    assert "step.n" in response.json()["message"]
    assert sim.steps == 0


def test_a_bad_fault_from_python_raises_and_logs_nothing(sim: SimExchange) -> None:
    with pytest.raises(InvalidConfigError, match=r"price_jump\.product_id .*'FOO-BAR'"):
        sim.faults.price_jump("FOO-BAR", 0.1)
    with pytest.raises(InvalidConfigError, match=r"step\.n"):
        sim.step(10_001)

    assert sim.faults.log == ()


def test_the_control_endpoint_steps_the_market(sim: SimExchange, http: requests.Session) -> None:
    response = http.post(sim.control_url + "/step", json={"n": 3}, timeout=TIMEOUT_S)

    assert response.json() == {"ok": True, "steps": 3}


def test_reject_subscribes_answers_failure_then_recovers(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    sim.faults.reject_subscribes(count=1)

    feed.subscribe("heartbeats")
    refused = feed.recv()
    feed.subscribe("heartbeats")

    assert refused == {"type": "error", "message": "failure to subscribe"}
    assert feed.recv()["channel"] == "subscriptions"


def test_duplicate_frames_repeat_a_sequence_number(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.recv()

    sim.faults.duplicate_frames(count=1)

    numbers = [feed.next("heartbeats")["sequence_num"] for _ in range(3)]
    assert numbers[0] == numbers[1] or numbers[1] == numbers[2]


def test_oversized_frame_arrives_at_the_asked_size(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.recv()

    sim.faults.oversized_frame(size_bytes=1024 * 1024)  # the default, 11 MiB, is slow to parse

    assert len(feed.next("padding")["padding"]) == 1024 * 1024


def test_reset_mid_body_cuts_the_answer_short(sim: SimExchange, api: Api) -> None:
    sim.faults.reset_mid_body(count=1)

    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        api.get("/accounts")

    assert api.get("/accounts").status_code == 200


def test_funding_rate_spike_is_published_and_accrued(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    sim.faults.funding_rate("BIP-20DEC30-CDE", "0.01")
    api.order("f-1", "BIP-20DEC30-CDE", "BUY", market_market_ioc={"base_size": "1"})

    published = api.get("/products/BIP-20DEC30-CDE").json()["future_product_details"][
        "funding_rate"
    ]
    clock.advance(3600)
    sim.step()

    (position,) = api.get("/cfm/positions").json()["positions"]
    assert published == "0.01"
    assert -8 < accrued_funding(position, "0.01") < -6  # 1 x 0.01 BTC x ~69k x 1 %


def test_clock_skew_moves_server_time_and_jwt_checks(
    make_sim: Callable[..., SimExchange], clock: FakeClock, http: requests.Session
) -> None:
    keys = Keys()
    sim = make_sim(verify_auth=True, public_keys_pem=(keys.public_pem,))
    port = sim.rest_port
    token = keys.token(
        now_s=clock.time_ns() / 1e9, uri=f"GET 127.0.0.1:{port}/api/v3/brokerage/accounts"
    )

    sim.faults.clock_skew(-30)

    server_s = int(http.get(sim.rest_base_url + "/time", timeout=TIMEOUT_S).json()["epochSeconds"])
    refused = http.get(
        sim.rest_base_url + "/accounts",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT_S,
    )
    assert server_s == clock.time_ns() // 10**9 - 30
    assert refused.status_code == 401  # our nbf is 30 s in the exchange's future


def test_cancel_only_refuses_new_orders(sim: SimExchange, api: Api) -> None:
    sim.faults.cancel_only("BTC-USD")

    reply = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})

    assert reply["error_response"]["new_order_failure_reason"] == "ORDER_ENTRY_DISABLED"
    assert api.get("/products/BTC-USD").json()["cancel_only"] is True


def test_stuck_cancel_stays_cancel_queued_until_cleared(sim: SimExchange, api: Api) -> None:
    bid = api.get("/product_book", product_id="ETH-USD").json()["pricebook"]["bids"][-1]["price"]
    reply = api.order(
        "c-1", "ETH-USD", "BUY", limit_limit_gtc={"base_size": "0.1", "limit_price": bid}
    )
    order_id = reply["success_response"]["order_id"]
    sim.faults.stuck_cancels(count=1)

    (result,) = api.post("/orders/batch_cancel", {"order_ids": [order_id]}).json()["results"]
    stuck = api.get_order(order_id)
    sim.faults.clear()

    assert result["success"] is True
    assert (stuck["status"], stuck["pending_cancel"]) == ("CANCEL_QUEUED", True)
    assert api.get_order(order_id)["status"] == "CANCELLED"


def test_a_dropped_snapshot_leaves_updates_without_one(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    sim.faults.drop_snapshots(count=1)
    feed.subscribe("level2", "BTC-USD")
    ack = feed.recv()

    sim.step()
    first = feed.next("l2_data")

    assert ack["channel"] == "subscriptions"
    assert first["sequence_num"] == 1
    assert first["events"][0]["type"] == "update"
