"""Frames the consumer has no use for are forwarded undecoded: ``skip_undecoded``."""

from __future__ import annotations

import random

import msgspec
import pytest

from perpsbot.clock import SystemClock
from perpsbot.runtime.testing import eventually
from perpsbot.venue import (
    Backoff,
    Frame,
    HeartbeatFrame,
    SkippedFrame,
    TickerFrame,
    VenueRateLimiter,
    WebSocketFeed,
)
from tests.venue import examples
from tests.venue.loopback import ws_server
from tests.venue.test_feed_sequence import Script, _heartbeat


def _ticker(seq: int) -> str:
    return examples.TICKER.decode().replace('"sequence_num":0', f'"sequence_num":{seq}')


def _feed(url: str, on_frame: object) -> WebSocketFeed:
    return WebSocketFeed(
        url=url,
        channels=["ticker", "level2"],
        product_ids=["BTC-USD"],
        on_frame=on_frame,  # type: ignore[arg-type]
        on_status=lambda status: None,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        backoff=Backoff(initial_s=5.0),
        rng=random.Random(0),
    )


def test_a_skipped_channel_arrives_undecoded_in_order_and_decoded_again_when_asked() -> None:
    script = Script(
        [_heartbeat(0), _ticker(1), _ticker(2), _heartbeat(3), _ticker(4), _heartbeat(5),
         _ticker(6)],
        expect_subscribes=3,
    )  # fmt: skip
    frames: list[Frame] = []
    holder: list[WebSocketFeed] = []

    def on_frame(frame: Frame) -> None:
        frames.append(frame)
        if type(frame) is TickerFrame:  # the consumer needs no more tickers for now
            holder[0].skip_undecoded(["ticker"])
        elif type(frame) is HeartbeatFrame and frame.sequence_num == 5:
            holder[0].skip_undecoded(())  # ... and from here on it does again

    with ws_server(script.handler) as url:
        feed = _feed(url, on_frame)
        holder.append(feed)
        feed.start()
        eventually(lambda: len(frames) >= 7, 5, "seven frames")
        stats = feed.stats()
        feed.stop()
    assert [(type(f).__name__, f.sequence_num) for f in frames] == [
        ("HeartbeatFrame", 0),
        ("TickerFrame", 1),
        ("SkippedFrame", 2),
        ("HeartbeatFrame", 3),
        ("SkippedFrame", 4),
        ("HeartbeatFrame", 5),
        ("TickerFrame", 6),
    ]
    assert frames[2] == SkippedFrame("ticker", 2)
    assert (stats.frames, stats.skipped, stats.gaps, stats.decode_errors) == (7, 2, 0, 0)


def test_a_skipped_channels_frame_without_its_sequence_number_up_front_is_decoded() -> None:
    late_number = msgspec.json.encode({
        "channel": "ticker", "client_id": "", "timestamp": "2023-02-09T20:30:37.1Z",
        "events": [{"type": "update", "tickers": []}], "sequence_num": 1,
    }).decode()  # fmt: skip
    quoted_number = _ticker(2).replace('"sequence_num":2', '"sequence_num":"2"')
    script = Script([late_number, quoted_number, _heartbeat(3)], expect_subscribes=3)
    frames: list[Frame] = []
    with ws_server(script.handler) as url:
        feed = _feed(url, frames.append)
        feed.skip_undecoded(["ticker"])
        feed.start()
        eventually(lambda: any(type(f) is HeartbeatFrame for f in frames), 5, "the heartbeat")
        stats = feed.stats()
        feed.stop()
    # Decoded, so the quoted number is explained and dropped; the other one is a ticker.
    assert [(type(f).__name__, f.sequence_num) for f in frames] == [
        ("TickerFrame", 1),
        ("HeartbeatFrame", 3),
    ]
    assert (stats.skipped, stats.decode_errors) == (0, 1)


def test_skipping_an_unknown_channel_is_refused_naming_it() -> None:
    feed = _feed("ws://127.0.0.1:9", lambda frame: None)
    with pytest.raises(ValueError, match=r"channels must be among .*found \['tickers'\]"):
        feed.skip_undecoded(["tickers"])
