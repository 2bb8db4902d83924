"""The websocket face: envelopes, per-connection sequence numbers, acks, snapshots and channels."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import websocket

from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api, Feed

RFC3339_NS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\Z")
BIP = "BIP-20DEC30-CDE"


def _apply(book: dict[str, dict[Decimal, Decimal]], event: dict[str, Any]) -> None:
    for update in event["updates"]:
        side = book[update["side"]]
        price, size = Decimal(update["price_level"]), Decimal(update["new_quantity"])
        if size == 0:
            side.pop(price, None)
        else:
            side[price] = size


def test_sequence_numbers_start_at_zero_and_rise_by_one_across_channels(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.subscribe("level2", "BTC-USD")
    feed.subscribe("ticker", "BTC-USD")

    frames = [feed.recv() for _ in range(5)]
    sim.step(3)
    frames += [feed.recv() for _ in range(8)]

    assert [f["sequence_num"] for f in frames] == list(range(13))
    channels = {f["channel"] for f in frames}
    assert {"subscriptions", "l2_data", "ticker"} <= channels
    assert all(RFC3339_NS.match(f["timestamp"]) for f in frames)
    assert all(f["client_id"] == "" for f in frames)


def test_every_connection_has_its_own_sequence(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    first, second = connect(sim.market_ws_url), connect(sim.market_ws_url)
    first.subscribe("ticker", "ETH-USD")
    first.recv()
    first.recv()

    second.subscribe("ticker", "ETH-USD")

    assert second.recv()["sequence_num"] == 0


def test_subscriptions_ack_lists_everything_active(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")
    feed.recv()
    feed.subscribe("market_trades", "ETH-USD", "BTC-USD")

    ack = feed.next("subscriptions")
    feed.send(type="unsubscribe", channel="market_trades", product_ids=["ETH-USD"])
    after = feed.next("subscriptions")

    assert ack["events"] == [
        {"subscriptions": {"heartbeats": ["heartbeats"], "market_trades": ["BTC-USD", "ETH-USD"]}}
    ]
    assert after["events"][0]["subscriptions"]["market_trades"] == ["BTC-USD"]


def test_level2_snapshot_plus_updates_rebuild_the_rest_book(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("level2", BIP)
    snapshot = feed.next("l2_data")
    book: dict[str, dict[Decimal, Decimal]] = {"bid": {}, "offer": {}}
    (event,) = snapshot["events"]
    assert event["type"] == "snapshot"
    assert {u["side"] for u in event["updates"]} == {"bid", "offer"}
    assert event["updates"][0]["event_time"] == "1970-01-01T00:00:00Z"
    _apply(book, event)

    sim.step(20)
    api.order("c-1", BIP, "BUY", market_market_ioc={"base_size": "30"})
    feed.subscribe("heartbeats")  # the ack marks the end of what the steps and the order sent
    while (frame := feed.recv())["channel"] != "subscriptions":
        if frame["channel"] == "l2_data":
            for update_event in frame["events"]:
                assert update_event["type"] == "update"
                _apply(book, update_event)

    rest = api.get("/product_book", product_id=BIP).json()["pricebook"]
    assert book["bid"] == {Decimal(b["price"]): Decimal(b["size"]) for b in rest["bids"]}
    assert book["offer"] == {Decimal(a["price"]): Decimal(a["size"]) for a in rest["asks"]}


def test_level2_updates_carry_zero_to_delete_a_level(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("level2", "BTC-USD")
    feed.next("l2_data")

    sim.faults.price_jump("BTC-USD", 0.01)
    sim.step()

    update = feed.next("l2_data")["events"][0]
    assert "0" in {u["new_quantity"] for u in update["updates"]}


def test_resubscribing_level2_sends_a_fresh_snapshot(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("level2", "ETH-USD")
    feed.next("l2_data")

    feed.subscribe("level2", "ETH-USD")

    assert feed.next("l2_data")["events"][0]["type"] == "snapshot"


def test_heartbeats_arrive_with_a_rising_counter(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("heartbeats")

    beats = [feed.next("heartbeats")["events"][0] for _ in range(3)]

    counters = [b["heartbeat_counter"] for b in beats]
    assert counters == list(range(counters[0], counters[0] + 3))
    assert beats[0]["current_time"].endswith("+0000 UTC")


def test_ticker_snapshot_then_updates_carry_best_bid_and_ask(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("ticker", "ETH-USD")

    snapshot = feed.next("ticker")["events"][0]
    sim.step()
    update = feed.next("ticker")["events"][0]

    assert snapshot["type"] == "snapshot"
    assert update["type"] == "update"
    ticker = update["tickers"][0]
    assert ticker["type"] == "ticker"
    assert Decimal(ticker["best_bid"]) < Decimal(ticker["best_ask"])
    assert set(ticker) >= {"price", "volume_24_h", "best_bid_quantity", "best_ask_quantity"}


def test_market_trades_snapshot_then_our_fill_prints(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    sim.step(10)
    feed = connect(sim.market_ws_url)
    feed.subscribe("market_trades", "BTC-USD")
    snapshot = feed.next("market_trades")["events"][0]

    api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.001"})
    update = feed.next("market_trades")["events"][0]

    assert snapshot["type"] == "snapshot"
    assert update["type"] == "update"
    (trade,) = update["trades"]
    assert (trade["size"], trade["side"]) == ("0.001", "SELL")  # the maker's side


def test_user_channel_snapshot_then_order_updates_in_ws_field_names(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    feed = connect(sim.user_ws_url)
    feed.subscribe("user")
    snapshot = feed.next("user")["events"][0]

    reply = api.order("c-1", "ETH-USD", "SELL", market_market_ioc={"base_size": "0.5"})
    update = feed.next("user")["events"][0]

    assert snapshot == {
        "type": "snapshot",
        "orders": [],
        "positions": {"perpetual_futures_positions": [], "expiring_futures_positions": []},
    }
    (order,) = update["orders"]
    assert order["order_id"] == reply["success_response"]["order_id"]
    assert (order["order_side"], order["status"], order["cumulative_quantity"]) == (
        "SELL",
        "FILLED",
        "0.5",
    )
    assert order["post_only"] == "false"
    assert order["leaves_quantity"] == "0"


def test_user_snapshot_carries_the_open_futures_positions_that_rest_shows(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    api.order("c-1", BIP, "BUY", market_market_ioc={"base_size": "3"})
    api.order("c-2", BIP, "SELL", market_market_ioc={"base_size": "1"})
    (rest,) = api.get("/cfm/positions").json()["positions"]
    feed = connect(sim.user_ws_url)

    feed.subscribe("user")

    positions = feed.next("user")["events"][0]["positions"]
    assert positions["perpetual_futures_positions"] == []
    (position,) = positions["expiring_futures_positions"]
    assert position["product_id"] == BIP
    assert (position["side"], position["number_of_contracts"]) == ("Long", "2")
    assert position["number_of_contracts"] == rest["number_of_contracts"]
    assert position["entry_price"] == rest["avg_entry_price"]
    assert set(position) == {
        "product_id",
        "side",
        "number_of_contracts",
        "realized_pnl",
        "unrealized_pnl",
        "entry_price",
    }


def test_user_snapshot_sends_open_orders_in_batches_of_fifty(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    low = (
        Decimal(
            api.get("/product_book", product_id="BTC-USD").json()["pricebook"]["bids"][-1]["price"]
        )
        - 100
    )
    for i in range(50):
        api.order(
            f"c-{i}",
            "BTC-USD",
            "BUY",
            limit_limit_gtc={"base_size": "0.0001", "limit_price": str(low)},
        )
    feed = connect(sim.user_ws_url)

    feed.subscribe("user")

    sizes = [len(feed.next("user")["events"][0]["orders"]) for _ in range(2)]
    assert sizes == [50, 0]


def test_futures_balance_summary_sends_a_snapshot_and_updates(
    sim: SimExchange, connect: Callable[[str], Feed], api: Api
) -> None:
    feed = connect(sim.user_ws_url)
    feed.subscribe("futures_balance_summary")
    snapshot = feed.next("futures_balance_summary")["events"][0]

    api.order("c-1", BIP, "BUY", market_market_ioc={"base_size": "2"})
    update = feed.next("futures_balance_summary")["events"][0]

    assert snapshot["type"] == "snapshot"
    assert snapshot["fcm_balance_summary"]["initial_margin"] == "0"
    assert Decimal(update["fcm_balance_summary"]["initial_margin"]) > 0


def test_status_channel_sends_the_products(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.market_ws_url)
    feed.subscribe("status", "BTC-USD")

    (product,) = feed.next("status")["events"][0]["products"]

    assert (product["id"], product["status"]) == ("BTC-USD", "online")


@pytest.mark.parametrize(
    "message",
    [
        {"type": "subscribe", "channel": "heartbeat"},
        {"type": "subscribe", "channels": ["level2"], "product_ids": ["BTC-USD"]},
        {"type": "subscribe", "channel": "level2"},
        {"type": "subscribe", "channel": "level2", "product_ids": ["NOPE-USD"]},
        {"type": "hello"},
    ],
)
def test_a_bad_subscribe_gets_a_flat_error(
    sim: SimExchange, connect: Callable[[str], Feed], message: dict[str, Any]
) -> None:
    feed = connect(sim.market_ws_url)

    feed.send(**message)

    assert feed.recv() == {"type": "error", "message": "failure to subscribe"}


def test_a_client_that_never_subscribes_is_disconnected(
    make_sim: Callable[..., SimExchange], connect: Callable[[str], Feed]
) -> None:
    sim = make_sim(subscribe_timeout_s=0.1)
    feed = connect(sim.market_ws_url)

    opcode, data = feed.ws.recv_data(control_frame=True)

    assert opcode == 8  # close
    assert int.from_bytes(data[:2], "big") == 1000


def test_market_data_is_served_at_the_root_path_as_coinbase_does(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(f"ws://{sim.config.host}:{sim.ws_port}/")

    feed.subscribe("ticker", "BTC-USD")

    assert feed.next("ticker")["events"][0]["type"] == "snapshot"


def test_an_unknown_websocket_path_is_refused(sim: SimExchange) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        websocket.create_connection(sim.market_ws_url.replace("/ws", "/nope"), timeout=5)

    assert caught.value.status_code == 404


def test_the_market_ticks_by_itself_when_given_an_interval(
    make_sim: Callable[..., SimExchange], connect: Callable[[str], Feed]
) -> None:
    sim = make_sim(tick_interval_s=0.01)

    eventually(lambda: sim.steps >= 3, timeout_s=5, what="three market steps")


def test_candles_send_the_five_minute_bucket_then_updates(
    make_sim: Callable[..., SimExchange], connect: Callable[[str], Feed]
) -> None:
    sim = make_sim(candles_interval_s=0.02)
    feed = connect(sim.market_ws_url)
    feed.subscribe("candles", "ETH-USD")

    snapshot = feed.next("candles")["events"][0]
    update = feed.next("candles")["events"][0]

    assert (snapshot["type"], update["type"]) == ("snapshot", "update")
    (candle,) = update["candles"]
    assert candle["product_id"] == "ETH-USD"
    assert int(candle["start"]) % 300 == 0
    assert Decimal(candle["low"]) <= Decimal(candle["close"]) <= Decimal(candle["high"])


def test_ticker_batch_has_no_best_bid_or_ask_and_only_moved_tickers(
    make_sim: Callable[..., SimExchange], connect: Callable[[str], Feed]
) -> None:
    sim = make_sim(ticker_batch_interval_s=0.02)
    feed = connect(sim.market_ws_url)
    feed.subscribe("ticker_batch", "BTC-USD", "ETH-USD")
    snapshot = feed.next("ticker_batch")["events"][0]

    sim.step()
    update = feed.next("ticker_batch")["events"][0]

    assert len(snapshot["tickers"]) == 2
    assert update["type"] == "update"
    assert all("best_bid" not in t and "best_ask" not in t for t in update["tickers"])
