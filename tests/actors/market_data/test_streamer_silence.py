"""Silence is judged from the latest market data, on a timer, whatever else arrives."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import msgspec
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from perpsbot.actors import MarkWindowActor, StreamerActor, mark_window_mailbox, streamer_mailbox
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.messages import FeedState, FeedStatusChanged, PendingMark
from perpsbot.runtime import ActorSystem, ChildSpec, Coalescer, SupervisorSpec, Wiring
from perpsbot.runtime.testing import Probe, eventually
from perpsbot.venue import Backoff, VenueLink, VenueRateLimiter
from tests.actors.conftest import subscriber_spec
from tests.venue.loopback import ws_server
from tests.venue.raw_server import accept_handshake, encode_frame, raw_tcp_server

_SNAPSHOT = msgspec.json.encode({
    "channel": "l2_data", "client_id": "", "timestamp": "2026-04-07T14:30:00.5Z",
    "sequence_num": 0,
    "events": [{"type": "snapshot", "product_id": "BTC-USD", "updates": [
        {"side": "bid", "event_time": "2026-04-07T14:30:00.5Z", "price_level": "100",
         "new_quantity": "1"},
        {"side": "offer", "event_time": "2026-04-07T14:30:00.5Z", "price_level": "101",
         "new_quantity": "1"},
    ]}],
})  # fmt: skip

#: The probe stands in for the streamer's subscribers; the feed's state is a latest topic.
_TOLD = Wiring.of({"streamer": {FeedStatusChanged: ("probe",)}}, latest=(FeedStatusChanged,))


@pytest.fixture
def pings_only() -> Iterator[str]:
    """Answers the handshake, then sends nothing but websocket pings, every 50 ms."""

    def handler(conn: ServerConnection) -> None:
        try:
            while True:
                conn.ping()
                with contextlib.suppress(TimeoutError):
                    conn.recv(timeout=0.05)  # subscribes are read and dropped meanwhile
        except ConnectionClosed:
            return  # the client replaced the connection

    with ws_server(handler) as url:
        yield url


@pytest.fixture
def dripping() -> Iterator[str]:
    """Sends a book snapshot, then a frame of 1000 bytes at one byte every 50 ms."""

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        accept_handshake(conn)
        conn.sendall(encode_frame(_SNAPSHOT) + encode_frame(b"", length=1000))
        while not stop.wait(0.05):
            conn.sendall(b" ")

    with raw_tcp_server(serve) as address:
        yield f"ws://{address}/ws"


@contextlib.contextmanager
def _run_streamer(url: str, probe: Probe) -> Iterator[ActorSystem]:
    clock = SystemClock()
    link = VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url=url,
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
        feed_backoff=Backoff(initial_s=0.05, max_s=0.2),
    )
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")
    config = BotConfig(market_data=MarketDataConfig(symbols=("BTC-USD",), stale_after_s=0.5))
    system = ActorSystem("silence", clock=clock, watchdog_interval_s=None)
    try:
        system.start(
            SupervisorSpec(
                name="md",
                children=[
                    subscriber_spec(probe, "probe"),
                    ChildSpec(
                        name="marks",
                        factory=lambda ctx: MarkWindowActor(context=ctx, feed_marks=feed_marks),
                        mailbox=mark_window_mailbox,
                    ),
                    ChildSpec(
                        name="streamer",
                        factory=lambda ctx: StreamerActor(
                            context=ctx, venue=link, feed_marks=feed_marks
                        ),
                        mailbox=streamer_mailbox,
                    ),
                ],
                wiring=_TOLD,
            ),
            config=config,
        )
        yield system
    finally:
        system.shutdown()


def _states(probe: Probe) -> Callable[[FeedState], bool]:
    def seen(state: FeedState) -> bool:
        return any(isinstance(e, FeedStatusChanged) and e.state is state for e in probe.events)

    return seen


def test_a_server_sending_only_pings_is_stale_and_replaced(pings_only: str) -> None:
    probe = Probe()
    with _run_streamer(pings_only, probe) as system:
        stale = probe.wait_for(
            lambda events: any(
                isinstance(e, FeedStatusChanged) and "no market data" in e.detail for e in events
            ),
            10,
            "the streamer to judge the connection stale",
        )
        assert not _states(probe)(FeedState.SUBSCRIBED)  # never healthy: no data ever came
        assert any(e.state is FeedState.STALE for e in stale if isinstance(e, FeedStatusChanged))
        assert system.state("md/streamer").feed_restarts >= 1


def test_a_server_dripping_a_frame_that_never_completes_is_stale_and_replaced(
    dripping: str,
) -> None:
    probe = Probe()
    with _run_streamer(dripping, probe) as system:
        probe.wait_for(lambda _: _states(probe)(FeedState.SUBSCRIBED), 10, "data to flow")
        probe.wait_for(
            lambda events: any(
                isinstance(e, FeedStatusChanged) and "no market data" in e.detail for e in events
            ),
            10,
            "the streamer to judge the dripping connection stale",
        )
        assert system.state("md/streamer").feed_restarts >= 1


def test_the_counters_keep_what_a_replaced_connection_counted(dripping: str) -> None:
    probe = Probe()
    with _run_streamer(dripping, probe) as system:

        def counted() -> tuple[int, int, int, int]:
            state = system.state("md/streamer")
            feed, lag = state.feed, state.lag
            frames = 0 if feed is None else feed.frames
            lags = 0 if lag is None else lag.count
            return state.feed_restarts, frames, state.reconnects, lags

        # Each connection brings one snapshot frame (a lag sample), then drips until it is
        # replaced: the counters count every connection of the streamer, not the latest one.
        eventually(lambda: counted()[0] >= 2, 10, "two replaced connections")

        def every_connection_counted() -> bool:
            replaced, frames, reconnects, lags = counted()
            return frames >= replaced + 1 and reconnects >= replaced and lags >= replaced + 1

        eventually(
            every_connection_counted,
            10,
            "a frame and a lag sample per connection, a reconnect per replacement",
        )
