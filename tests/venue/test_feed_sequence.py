"""Feed behaviour at the message level, against a scripted loopback websocket server."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import jwt
import msgspec
from websockets.sync.server import ServerConnection

from perpsbot.clock import SystemClock
from perpsbot.messages import (
    FeedDisconnected,
    FeedGapDetected,
    FeedStatus,
)
from perpsbot.runtime.testing import eventually
from perpsbot.venue import (
    Backoff,
    CdpCredentials,
    Frame,
    HeartbeatFrame,
    JwtSigner,
    VenueRateLimiter,
    WebSocketFeed,
)
from tests.venue.loopback import self_signed_tls, ws_server
from tests.venue.raw_server import close_frame, encode_frame, raw_ws_server


def _heartbeat(seq: int, counter: int | None = None) -> str:
    return msgspec.json.encode({
        "channel": "heartbeats", "client_id": "", "timestamp": "2026-04-07T14:30:00.5Z",
        "sequence_num": seq,
        "events": [{"current_time": "x", "heartbeat_counter": str(counter or seq)}],
    }).decode()  # fmt: skip


class Script:
    """A server that records what the client sends and plays a list of frames once subscribed."""

    def __init__(self, frames: list[str], expect_subscribes: int) -> None:
        self.frames = frames
        self.expect = expect_subscribes
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def handler(self, conn: ServerConnection) -> None:
        for _ in range(self.expect):
            with self.lock:
                self.received.append(msgspec.json.decode(conn.recv()))
        for frame in self.frames:
            conn.send(frame)
        try:
            while True:
                message = conn.recv(timeout=5)
                with self.lock:
                    self.received.append(msgspec.json.decode(message))
        except Exception:  # the client went away or went quiet: the script is over
            self.finished.set()

    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)


def _start(url: str, channels: list[str], signer: JwtSigner | None = None):  # type: ignore[no-untyped-def]
    frames: list[Frame] = []
    statuses: list[FeedStatus] = []
    feed = WebSocketFeed(
        url=url,
        channels=channels,
        product_ids=["BTC-USD"],
        on_frame=frames.append,
        on_status=statuses.append,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        signer=signer,
        backoff=Backoff(initial_s=5.0),
        rng=random.Random(0),
    )
    feed.start()
    return feed, frames, statuses


def test_first_connection_subscribes_heartbeats_then_one_channel_per_message_each_with_a_jwt(
    credentials: CdpCredentials, public_pem: str
) -> None:
    script = Script([_heartbeat(0)], expect_subscribes=4)
    with ws_server(script.handler) as url:
        signer = JwtSigner(credentials, clock=SystemClock())
        feed, frames, _ = _start(url, ["ticker", "level2", "market_trades"], signer)
        eventually(lambda: frames, 5, "the first frame")
        feed.stop()
    subscribes = script.messages()[:4]
    assert [m["channel"] for m in subscribes] == ["heartbeats", "ticker", "level2", "market_trades"]
    assert all(m["type"] == "subscribe" for m in subscribes)
    assert "product_ids" not in subscribes[0]
    assert all(m["product_ids"] == ["BTC-USD"] for m in subscribes[1:])
    nonces = set()
    for message in subscribes:
        token = message["jwt"]
        claims = jwt.decode(token, public_pem, algorithms=["ES256"])
        assert "uri" not in claims
        nonces.add(jwt.get_unverified_header(token)["nonce"])
    assert len(nonces) == 4


def test_a_smaller_sequence_number_is_dropped_as_stale() -> None:
    script = Script([_heartbeat(s) for s in (0, 1, 2, 1, 3)], expect_subscribes=2)
    with ws_server(script.handler) as url:
        feed, frames, statuses = _start(url, ["ticker"])
        eventually(lambda: len(frames) >= 4, 5, "four frames")
        stats = feed.stats()
        feed.stop()
    assert [f.sequence_num for f in frames if isinstance(f, HeartbeatFrame)] == [0, 1, 2, 3]
    assert stats.out_of_order == 1
    assert stats.gaps == 0
    assert not [s for s in statuses if isinstance(s, FeedGapDetected)]


def test_a_gap_resubscribes_level2_on_the_same_connection() -> None:
    script = Script([_heartbeat(s) for s in (0, 1, 5, 6)], expect_subscribes=3)
    with ws_server(script.handler) as url:
        feed, frames, statuses = _start(url, ["ticker", "level2"])
        eventually(lambda: len(frames) >= 4, 5, "four frames")
        eventually(lambda: len(script.messages()) >= 5, 5, "the resubscribe")
        feed.stop()
    gaps = [s for s in statuses if isinstance(s, FeedGapDetected)]
    assert [(g.expected, g.found) for g in gaps] == [(2, 5)]
    resubscribe = script.messages()[3:5]
    assert [(m["type"], m["channel"]) for m in resubscribe] == [
        ("unsubscribe", "level2"),
        ("subscribe", "level2"),
    ]
    assert len(frames) == 4  # the frames after a gap are still delivered


def test_stop_from_inside_a_callback_ends_the_feed_without_deadlock() -> None:
    script = Script([_heartbeat(s) for s in range(5)], expect_subscribes=2)
    with ws_server(script.handler) as url:
        stopped_from_callback: list[bool] = []
        holder: list[WebSocketFeed] = []

        def on_frame(frame: Frame) -> None:
            if not stopped_from_callback:
                stopped_from_callback.append(holder[0].stop())

        feed = WebSocketFeed(
            url=url,
            channels=["ticker"],
            product_ids=["BTC-USD"],
            on_frame=on_frame,
            on_status=lambda status: None,
            limiter=VenueRateLimiter(clock=SystemClock()),
            clock=SystemClock(),
        )
        holder.append(feed)
        feed.start()
        eventually(lambda: not feed.running, 5, "the feed thread to end")
    assert stopped_from_callback == [False]
    assert feed.stats().frames == 1


def test_feed_reads_frames_over_tls(tmp_path: Path) -> None:
    tls, ca_file = self_signed_tls(tmp_path)
    big = msgspec.json.encode({
        "channel": "status", "client_id": "", "sequence_num": 3,
        "timestamp": "2026-04-07T14:30:00Z", "events": [{"pad": "p" * 400_000}],
    })  # fmt: skip
    script = Script(
        [_heartbeat(0), _heartbeat(1), _heartbeat(2), big.decode()], expect_subscribes=2
    )
    with ws_server(script.handler, tls=tls) as url:
        frames: list[Frame] = []
        feed = WebSocketFeed(
            url=url,
            channels=["ticker"],
            product_ids=["BTC-USD"],
            on_frame=frames.append,
            on_status=lambda status: None,
            limiter=VenueRateLimiter(clock=SystemClock()),
            clock=SystemClock(),
            sslopt={"ca_certs": str(ca_file)},
        )
        feed.start()
        eventually(lambda: len(frames) >= 4, 5, "four frames over TLS")
        assert feed.stop()
    assert [f.sequence_num for f in frames] == [0, 1, 2, 3]


def test_a_bulk_stream_of_mixed_size_frames_arrives_whole_and_in_order() -> None:
    payloads = []
    for seq in range(3000):
        # Mostly small frames, some with 16-bit and some with 64-bit length headers.
        pad = "x" * (70_000 if seq % 1000 == 999 else 20_000 if seq % 250 == 0 else seq % 300)
        payloads.append(
            msgspec.json.encode(
                {
                    "channel": "heartbeats",
                    "client_id": "",
                    "sequence_num": seq,
                    "timestamp": "2026-04-07T14:30:00.123Z",
                    "events": [{"current_time": pad, "heartbeat_counter": seq}],
                }
            )
        )
    stream = b"".join(encode_frame(p) for p in payloads) + close_frame(1000)
    with raw_ws_server(stream) as url:
        frames: list[Frame] = []
        statuses: list[FeedStatus] = []
        feed = _ticker_feed(url, frames, statuses)
        eventually(lambda: any(isinstance(s, FeedDisconnected) for s in statuses), 10, "the close")
        stats = feed.stats()
        assert feed.stop()
    assert [f.sequence_num for f in frames] == list(range(3000))
    assert (stats.gaps, stats.decode_errors, stats.out_of_order) == (0, 0, 0)
    closed = next(s for s in statuses if isinstance(s, FeedDisconnected))
    assert closed.close_code == 1000


def _ticker_feed(url: str, frames: list[Frame], statuses: list[FeedStatus]) -> WebSocketFeed:
    """A started feed of BTC-USD tickers from ``url`` that reconnects only after 5 s."""
    feed = WebSocketFeed(
        url=url,
        channels=["ticker"],
        product_ids=["BTC-USD"],
        on_frame=frames.append,
        on_status=statuses.append,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        backoff=Backoff(initial_s=5.0),
    )
    feed.start()
    return feed


def test_a_protocol_error_fails_the_connection_and_is_counted() -> None:
    rsv_set = encode_frame(_heartbeat(1).encode(), rsv=0b100)
    with raw_ws_server(encode_frame(_heartbeat(0).encode()) + rsv_set) as url:
        frames: list[Frame] = []
        statuses: list[FeedStatus] = []
        feed = _ticker_feed(url, frames, statuses)
        eventually(lambda: any(isinstance(s, FeedDisconnected) for s in statuses), 5, "the end")
        stats = feed.stats()
        assert feed.stop()
    assert [f.sequence_num for f in frames] == [0]  # nothing after the broken frame
    assert stats.protocol_errors == 1
    ended = next(s for s in statuses if isinstance(s, FeedDisconnected))
    assert ended.reason.startswith("protocol error: reserved bits must be 0")
