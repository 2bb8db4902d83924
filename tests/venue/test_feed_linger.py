"""A trickle is read a batch at a time; a burst is never held back for it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import msgspec
import pytest

from perpsbot.clock import SystemClock
from perpsbot.runtime.testing import eventually
from perpsbot.venue import Backoff, Frame, VenueRateLimiter, WebSocketFeed
from tests.venue.raw_server import accept_handshake, encode_frame, raw_tcp_server


def _heartbeat(seq: int, pad: int = 0) -> bytes:
    return encode_frame(
        msgspec.json.encode({
            "channel": "heartbeats", "client_id": "x" * pad, "timestamp": "2026-04-07T14:30:00.5Z",
            "sequence_num": seq, "events": [{"current_time": "x", "heartbeat_counter": seq}],
        })
    )  # fmt: skip


def _feed(
    address: str, frames: list[Frame], linger_s: float, on_wait: Callable[[], None]
) -> WebSocketFeed:
    feed = WebSocketFeed(
        url=f"ws://{address}/ws",
        channels=["ticker"],
        product_ids=["BTC-USD"],
        on_frame=frames.append,
        on_status=lambda status: None,
        on_wait=on_wait,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        backoff=Backoff(initial_s=5.0),
        linger_s=linger_s,
    )
    feed.start()
    return feed


@pytest.mark.parametrize(
    "pad",
    [0, 4_500],  # a heartbeat; a frame the size of the simulated exchange's level2 updates
)
def test_a_trickle_is_read_and_flushed_a_batch_at_a_time(pad: int) -> None:
    linger_s = 0.1
    clock = SystemClock()
    first_sent: list[float] = []

    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        accept_handshake(conn)
        first_sent.append(clock.monotonic())
        for seq in range(30):  # one frame every 10 ms: 0.3 s in all, more on a busy machine
            if stop.wait(0.01):
                return
            conn.sendall(_heartbeat(seq, pad))
        stop.wait(10)

    frames: list[Frame] = []
    flushes: list[int] = []
    with raw_tcp_server(trickle) as address:
        feed = _feed(address, frames, linger_s, lambda: flushes.append(len(frames)))
        eventually(lambda: len(frames) == 30, 10, "thirty frames")
        took_s = clock.monotonic() - first_sent[0]
        assert feed.stop()
    batches = len({n for n in flushes if n})  # the frames delivered before each flush
    # Each batch but the last waited for the linger to pass or for 16 KiB to arrive, so
    # however slowly the frames came there are at most this many; a wake-up per frame would
    # flush 30 times.
    most = int(took_s / linger_s) + (30 * len(_heartbeat(0, pad))) // (16 * 1024) + 2
    assert batches <= most, f"{batches} batches in {took_s:.2f} s"


def test_a_burst_after_a_trickle_is_read_at_once_not_after_the_linger() -> None:
    burst_sent = threading.Event()

    def trickle_then_burst(conn: socket.socket, stop: threading.Event) -> None:
        accept_handshake(conn)
        conn.sendall(_heartbeat(0))  # a small read: the feed lingers after it
        stop.wait(0.2)
        conn.sendall(b"".join(_heartbeat(seq) for seq in range(1, 301)))  # ~45 KB at once
        burst_sent.set()
        stop.wait(60)

    frames: list[Frame] = []
    with raw_tcp_server(trickle_then_burst) as address:
        feed = _feed(address, frames, 30.0, lambda: None)
        assert burst_sent.wait(10)
        # Lingering runs until 16 KiB are waiting or the 30 s pass: the burst ends it at once.
        eventually(lambda: len(frames) == 301, 10, "the burst, long before the linger ends")
        assert feed.stop()
