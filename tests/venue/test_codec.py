from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbot.errors import FrameDecodeError
from perpsbot.venue import (
    BookUpdate,
    ErrorFrame,
    HeartbeatFrame,
    Level2Frame,
    MarketTradesFrame,
    SubscriptionsFrame,
    TickerFrame,
    UnknownFrame,
    UserFrame,
    decode_frame,
    encode_subscribe,
    parse_rfc3339_ns,
)
from tests.venue import examples


def test_heartbeat_with_string_counter_decodes() -> None:
    frame = decode_frame(examples.HEARTBEAT)
    assert frame == HeartbeatFrame(
        sequence_num=0,
        ts_event_ns=parse_rfc3339_ns("2023-06-23T20:31:26.122969572Z"),
        counter=3049,
    )


def test_heartbeat_with_numeric_counter_decodes() -> None:
    frame = decode_frame(examples.HEARTBEAT_NUMERIC)
    assert isinstance(frame, HeartbeatFrame)
    assert (frame.counter, frame.sequence_num) == (21697, 7)


def test_subscriptions_ack_lists_every_channel() -> None:
    frame = decode_frame(examples.SUBSCRIPTIONS)
    assert isinstance(frame, SubscriptionsFrame)
    assert frame.subscriptions == {
        "level2": ("BTC-USD",),
        "market_trades": ("BTC-USD", "ETH-USD"),
        "heartbeats": ("heartbeats",),
    }


def test_error_frame_has_no_sequence_number() -> None:
    frame = decode_frame(examples.ERROR)
    assert frame == ErrorFrame(message="authentication failure")
    assert frame.sequence_num == -1


def test_ticker_decodes_prices_as_decimals() -> None:
    frame = decode_frame(examples.TICKER)
    assert isinstance(frame, TickerFrame)
    assert frame.is_snapshot
    (ticker,) = frame.tickers
    assert ticker.product_id == "BTC-USD"
    assert ticker.price == Decimal("21932.98")
    assert (ticker.best_bid, ticker.best_ask) == (Decimal("21931.98"), Decimal("21933.98"))
    assert ticker.best_ask_quantity == Decimal("8038.07770938")


def test_ticker_batch_without_best_bid_and_ask_decodes_them_as_none() -> None:
    frame = decode_frame(examples.TICKER_BATCH)
    assert isinstance(frame, TickerFrame)
    assert frame.channel == "ticker_batch"
    assert frame.tickers[0].best_bid is None
    assert frame.tickers[0].best_ask is None


def test_level2_snapshot_splits_bids_and_offers() -> None:
    frame = decode_frame(examples.L2_SNAPSHOT)
    assert isinstance(frame, Level2Frame)
    (event,) = frame.events
    assert event.is_snapshot
    assert event.updates == (
        BookUpdate(side="bid", price_level=21921.73, new_quantity=0.06317902),
        BookUpdate(side="bid", price_level=21921.3, new_quantity=0.02),
        BookUpdate(side="offer", price_level=21922.5, new_quantity=1.5),
    )
    assert frame.ts_event_ns == parse_rfc3339_ns("2023-02-09T20:32:50.714964855Z")


def test_level2_update_keeps_a_zero_size_as_a_delete() -> None:
    frame = decode_frame(examples.L2_UPDATE)
    assert isinstance(frame, Level2Frame)
    assert not frame.events[0].is_snapshot
    assert frame.events[0].updates[-1] == BookUpdate("offer", 21922.5, 0.0)


def test_market_trades_decode_with_trade_time() -> None:
    frame = decode_frame(examples.MARKET_TRADES)
    assert isinstance(frame, MarketTradesFrame)
    (trade,) = frame.events[0].trades
    assert (trade.product_id, trade.side, trade.size) == ("ETH-USD", "BUY", Decimal("0.3"))
    assert trade.ts_trade_ns == parse_rfc3339_ns("2019-08-14T20:42:27.265Z")


def test_user_order_uses_user_channel_field_names() -> None:
    frame = decode_frame(examples.USER)
    assert isinstance(frame, UserFrame)
    (order,) = frame.events[0].orders
    assert order.order_id == "YYY"
    assert order.client_order_id == "XXX"
    assert order.side == "BUY"
    assert order.order_type == "LIMIT"
    assert order.status == "FILLED"
    assert order.cumulative_quantity == Decimal("0.01")
    assert order.avg_price == Decimal(50000)
    assert order.post_only is False
    assert order.number_of_fills == 1
    assert order.ts_created_ns == parse_rfc3339_ns("2024-06-21T18:29:13.909347Z")


def test_unknown_channel_decodes_to_unknown_frame_keeping_its_sequence() -> None:
    frame = decode_frame(examples.STATUS)
    assert frame == UnknownFrame(
        sequence_num=0,
        ts_event_ns=parse_rfc3339_ns("2023-02-09T20:29:49.753424311Z"),
        channel="status",
    )


def test_str_bytes_and_parsed_dict_decode_alike() -> None:
    as_dict: dict[str, Any] = msgspec.json.decode(examples.TICKER)
    assert decode_frame(examples.TICKER) == decode_frame(examples.TICKER.decode())
    assert decode_frame(examples.TICKER) == decode_frame(as_dict)


@pytest.mark.parametrize(
    ("mutate", "expected_message"),
    [
        (
            lambda m: m["events"][0]["updates"][1].update(side="ask"),
            "l2_data.events[0].updates[1].side must be 'bid' or 'offer', found 'ask'",
        ),
        (
            lambda m: m["events"][0]["updates"][0].update(price_level="abc"),
            "l2_data.events[0].updates[0].price_level must be a decimal string > 0 and < 1e15,"
            " found 'abc'",
        ),
        (
            lambda m: m["events"][0]["updates"][0].update(new_quantity="-1"),
            "l2_data.events[0].updates[0].new_quantity must be a size >= 0 and < 1e15, found '-1'",
        ),
        (
            lambda m: m["events"][0].pop("product_id"),
            "l2_data.events[0].product_id must be present, found 'nothing'",
        ),
        (
            lambda m: m.update(sequence_num="seven"),
            "l2_data.sequence_num must be an integer >= 0, found 'seven'",
        ),
        (
            lambda m: m["events"][0]["updates"][0].update(price_level="Infinity"),
            "l2_data.events[0].updates[0].price_level must be a decimal string > 0 and < 1e15,"
            " found 'Infinity'",
        ),
        (
            lambda m: m["events"][0]["updates"].append("level"),
            "l2_data.events[0].updates[3] must be an object, found 'level'",
        ),
        (
            lambda m: m.update(timestamp="yesterday"),
            "l2_data.timestamp must be an RFC 3339 timestamp, found 'yesterday'",
        ),
        (
            lambda m: m["events"][0].update(type="delta"),
            "l2_data.events[0].type must be 'snapshot' or 'update', found 'delta'",
        ),
    ],
)
def test_malformed_level2_names_field_expected_and_found(
    mutate: Any, expected_message: str
) -> None:
    message = json.loads(examples.L2_SNAPSHOT)
    mutate(message)
    with pytest.raises(FrameDecodeError) as caught:
        decode_frame(json.dumps(message))
    assert str(caught.value) == expected_message


def test_non_json_frame_is_a_frame_decode_error() -> None:
    with pytest.raises(FrameDecodeError, match="frame must be JSON"):
        decode_frame(b'{"channel":"l2_data","events":[')


def test_json_that_is_not_an_object_is_a_frame_decode_error() -> None:
    with pytest.raises(FrameDecodeError, match="must be a JSON object, found"):
        decode_frame(b"[1, 2]")


def test_non_finite_prices_are_refused() -> None:
    message = json.loads(examples.TICKER)
    message["events"][0]["tickers"][0]["best_bid"] = "NaN"
    with pytest.raises(FrameDecodeError, match=r"tickers\[0\].best_bid must be a finite"):
        decode_frame(json.dumps(message))


def test_subscribe_message_names_one_channel_and_its_jwt() -> None:
    body = msgspec.json.decode(encode_subscribe("level2", ("BTC-USD",), jwt="token"))
    assert body == {
        "type": "subscribe",
        "channel": "level2",
        "product_ids": ["BTC-USD"],
        "jwt": "token",
    }
    assert msgspec.json.decode(encode_subscribe("heartbeats")) == {
        "type": "subscribe",
        "channel": "heartbeats",
    }


# --- property tests: nothing but FrameDecodeError ever escapes ------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _decode_or_frame_error(raw: Any) -> None:
    with contextlib.suppress(FrameDecodeError):
        decode_frame(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_frame_decode_error(raw: bytes) -> None:
    _decode_or_frame_error(raw)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_json_raises_only_frame_decode_error(value: Any) -> None:
    _decode_or_frame_error(json.dumps(value).encode())
    if isinstance(value, dict):
        _decode_or_frame_error(value)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out.extend(_paths(child, (*prefix, i)))
    return out


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(st.sampled_from(examples.ALL), st.data(), _json)
def test_mutated_reference_frames_raise_only_frame_decode_error(
    raw: bytes, data: st.DataObject, replacement: Any
) -> None:
    message = json.loads(raw)
    paths = [p for p in _paths(message) if p]
    path = data.draw(st.sampled_from(paths))
    parent = message
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        parent[path[-1]] = replacement
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    _decode_or_frame_error(message)
    _decode_or_frame_error(json.dumps(message).encode())


def test_level2_decodes_alike_from_bytes_str_and_a_parsed_dict() -> None:
    as_dict: dict[str, Any] = msgspec.json.decode(examples.L2_SNAPSHOT)
    from_bytes = decode_frame(examples.L2_SNAPSHOT)
    assert from_bytes == decode_frame(examples.L2_SNAPSHOT.decode())
    assert from_bytes == decode_frame(as_dict)


def test_a_level2_timestamp_of_the_right_length_is_checked_when_read() -> None:
    # The shape is checked at decode; the calendar only when ts_event_ns is asked for, since
    # most frames of a burst are conflated away before anyone asks.
    message = json.loads(examples.L2_SNAPSHOT)
    message["timestamp"] = "2026-13-45T99:99:99.000000Z"
    frame = decode_frame(json.dumps(message))
    assert isinstance(frame, Level2Frame)
    with pytest.raises(FrameDecodeError, match=r"l2_data\.timestamp must be an RFC 3339"):
        _ = frame.ts_event_ns


_L2_HEAD = b'{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":1,'


@pytest.mark.parametrize(
    "raw",
    [
        _L2_HEAD + b'"events":[{"type":"update","product_id":"\xff","updates":[]}]}',
        b'{"channel":"l2_data","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        '{"channel":"ticker","x":"\ud800"}',
        b'{"timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":1,"events":[]}',
    ],
    ids=["invalid-utf8", "deep-nesting", "lone-surrogate-str", "no-channel"],
)
def test_every_malformed_frame_is_a_frame_decode_error(raw: bytes | str) -> None:
    with pytest.raises(FrameDecodeError):
        decode_frame(raw)
