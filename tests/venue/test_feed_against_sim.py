"""The real websocket feed against the loopback simulated exchange, including its faults."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.messages import (
    FeedConnected,
    FeedDisconnected,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedStatus,
    FeedStopped,
    FeedSubscribed,
)
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.venue import (
    Backoff,
    CdpCredentials,
    Frame,
    HeartbeatFrame,
    JwtSigner,
    Level2Frame,
    MarketIoc,
    OrderBook,
    OrderRequest,
    OrderSide,
    RestClient,
    SubscriptionsFrame,
    TickerFrame,
    UserFrame,
    VenueRateLimiter,
    WebSocketFeed,
)

T = TypeVar("T")


class Recorder:
    """Collects what the feed thread reports; read from the test thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frames: list[Frame] = []
        self.statuses: list[FeedStatus] = []

    def on_frame(self, frame: Frame) -> None:
        with self._lock:
            self.frames.append(frame)

    def on_status(self, status: FeedStatus) -> None:
        with self._lock:
            self.statuses.append(status)

    def of(self, kind: type[T], source: str = "frames") -> list[T]:
        with self._lock:
            items = list(self.frames if source == "frames" else self.statuses)
        return [x for x in items if isinstance(x, kind)]

    def status(self, kind: type[T]) -> list[T]:
        return self.of(kind, "statuses")


@pytest.fixture
def feeds() -> Iterator[list[WebSocketFeed]]:
    started: list[WebSocketFeed] = []
    yield started
    for feed in started:
        assert feed.stop(timeout_s=5), f"{feed!r} did not stop in time"


@pytest.fixture
def start_feed(
    sim: SimExchange, credentials: CdpCredentials, feeds: list[WebSocketFeed]
) -> Callable[..., tuple[WebSocketFeed, Recorder]]:
    def start(**overrides: Any) -> tuple[WebSocketFeed, Recorder]:
        recorder = Recorder()
        clock = overrides.pop("clock", SystemClock())
        settings: dict[str, Any] = {
            "url": sim.market_ws_url,
            "channels": ["ticker", "level2"],
            "product_ids": ["BTC-USD"],
            "on_frame": recorder.on_frame,
            "on_status": recorder.on_status,
            "limiter": VenueRateLimiter(clock=SystemClock()),
            "clock": clock,
            "signer": JwtSigner(credentials, clock=SystemClock()),
            # Staleness is the subject of the tests that set it; for the others a busy
            # machine's second of silence must not replace the connection under them.
            "stale_after_s": 30.0,
            "backoff": Backoff(initial_s=0.05, max_s=0.4, jitter=0.5),
            "rng": random.Random(1),
        }
        settings.update(overrides)
        feed = WebSocketFeed(**settings)
        feeds.append(feed)
        feed.start()
        return feed, recorder

    return start


def test_feed_subscribes_on_first_connection_and_builds_a_book(start_feed: Any) -> None:
    feed, rec = start_feed()
    eventually(lambda: rec.of(Level2Frame) and rec.of(TickerFrame), 5, "level2 and ticker")
    eventually(lambda: rec.of(HeartbeatFrame), 5, "heartbeats")
    subscribed = rec.status(FeedSubscribed)[0]
    assert subscribed.channels == ("heartbeats", "ticker", "level2")
    ack = rec.of(SubscriptionsFrame)[-1]
    assert {"heartbeats", "ticker", "level2"} <= set(ack.subscriptions)
    book = OrderBook("BTC-USD")
    for frame in rec.of(Level2Frame):
        for event in frame.events:
            book.apply(event)
    assert book.ready
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None
    assert ask is not None
    assert bid[0] < ask[0]
    assert feed.stats().gaps == 0
    assert rec.status(FeedConnected)[0].attempt == 0


@pytest.mark.parametrize("close_code", [1000, 1011, None])
def test_feed_reconnects_after_the_server_drops_it(
    sim: SimExchange, start_feed: Any, close_code: int | None
) -> None:
    feed, rec = start_feed()
    eventually(lambda: rec.of(Level2Frame), 5, "first snapshot")
    sim.faults.disconnect_all(close_code)
    eventually(lambda: len(rec.status(FeedConnected)) >= 2, 5, "a second connection")
    disconnected = rec.status(FeedDisconnected)[0]
    assert disconnected.close_code == close_code
    eventually(lambda: len([f for f in rec.of(Level2Frame) if f.events[0].is_snapshot]) >= 2, 5)
    # The sequence restarts at 0 on the new connection; that is not a gap.
    assert feed.stats().gaps == 0


def test_feed_retries_through_refused_connections(sim: SimExchange, start_feed: Any) -> None:
    sim.faults.refuse_connections(0.5)
    feed, rec = start_feed()
    eventually(lambda: rec.status(FeedConnected), 10, "a connection once refusals end")
    assert rec.status(FeedReconnecting)
    assert feed.stats().connect_attempts >= 2


def test_sequence_gap_is_reported_and_level2_resubscribed(
    sim: SimExchange, start_feed: Any
) -> None:
    _feed, rec = start_feed()
    eventually(lambda: rec.of(Level2Frame), 5, "first snapshot")
    sim.faults.sequence_gap(3)
    gap = eventually(lambda: rec.status(FeedGapDetected), 5, "a gap")[0]
    assert gap.found - gap.expected == 3
    eventually(lambda: len([f for f in rec.of(Level2Frame) if f.events[0].is_snapshot]) >= 2, 5)
    assert len(rec.status(FeedConnected)) == 1  # recovered without reconnecting


def test_a_silent_socket_is_stale_and_replaced(sim: SimExchange, start_feed: Any) -> None:
    _feed, rec = start_feed(stale_after_s=0.3)
    eventually(lambda: rec.of(HeartbeatFrame), 5, "heartbeats")
    sim.faults.stale_feed(heartbeats=False)
    eventually(lambda: rec.status(FeedStale), 5, "a stale report")
    eventually(lambda: len(rec.status(FeedConnected)) >= 2, 5, "a replacement connection")
    sim.faults.resume_feed()
    seen = len(rec.of(HeartbeatFrame))
    eventually(lambda: len(rec.of(HeartbeatFrame)) > seen, 5, "heartbeats again")


@pytest.mark.slow
def test_heartbeats_alone_keep_the_connection_fresh(sim: SimExchange, start_feed: Any) -> None:
    _feed, rec = start_feed(stale_after_s=0.5)
    eventually(lambda: rec.of(TickerFrame), 5, "tickers")
    sim.faults.stale_feed(heartbeats=True)
    seen = len(rec.of(HeartbeatFrame))
    eventually(lambda: len(rec.of(HeartbeatFrame)) >= seen + 15, 10, "1.5 s of heartbeats")
    assert rec.status(FeedStale) == []
    assert len(rec.status(FeedConnected)) == 1


def test_a_malformed_frame_is_counted_and_skipped(sim: SimExchange, start_feed: Any) -> None:
    feed, rec = start_feed()
    eventually(lambda: rec.of(HeartbeatFrame), 5, "heartbeats")
    sim.faults.malformed_frame()
    eventually(lambda: feed.stats().decode_errors == 1, 5, "the decode error")
    seen = len(rec.of(HeartbeatFrame))
    eventually(lambda: len(rec.of(HeartbeatFrame)) > seen, 5, "frames keep flowing")
    assert feed.running


def test_a_failing_callback_is_counted_and_never_kills_the_feed(start_feed: Any) -> None:
    def explode(frame: Frame) -> None:
        raise RuntimeError("consumer bug")

    feed, rec = start_feed(on_frame=explode)
    eventually(lambda: feed.stats().callback_errors >= 20, 5, "many failed callbacks")
    assert feed.running
    assert len(rec.status(FeedConnected)) == 1


def test_user_channel_subscribes_with_a_jwt_and_sees_our_orders(
    sim: SimExchange, start_feed: Any, credentials: CdpCredentials
) -> None:
    _feed, rec = start_feed(url=sim.user_ws_url, channels=["user"])
    eventually(lambda: rec.of(UserFrame), 5, "the user snapshot")
    rest = RestClient(
        base_url=sim.rest_base_url,
        signer=JwtSigner(credentials, clock=SystemClock()),
        limiter=VenueRateLimiter(clock=SystemClock()),
    )
    request = OrderRequest(
        client_order_id="feed-user-1",
        product_id="BTC-USD",
        side=OrderSide.BUY,
        configuration=MarketIoc(quote_size=Decimal(100)),
    )
    created = rest.create_order(request)
    rest.close()

    def our_order() -> bool:
        return any(
            o.order_id == created.order_id
            for f in rec.of(UserFrame)
            for e in f.events
            for o in e.orders
        )

    eventually(our_order, 5, "our order on the user channel")


def test_user_channel_without_a_signer_is_refused_at_construction(sim: SimExchange) -> None:
    with pytest.raises(ValueError, match="needs a signer"):
        WebSocketFeed(
            url=sim.user_ws_url,
            channels=["user"],
            product_ids=[],
            on_frame=lambda f: None,
            on_status=lambda s: None,
            limiter=VenueRateLimiter(clock=SystemClock()),
            clock=SystemClock(),
        )


def test_stop_ends_the_thread_promptly_and_reports_it(start_feed: Any) -> None:
    feed, rec = start_feed()
    eventually(lambda: rec.of(HeartbeatFrame), 5, "heartbeats")
    assert feed.stop(timeout_s=2.0)
    assert not feed.running
    assert isinstance(rec.statuses[-1], FeedStopped)


def test_a_healthy_period_resets_the_attempt_count(sim: SimExchange, start_feed: Any) -> None:
    clock = FakeClock()
    _feed, rec = start_feed(clock=clock, healthy_after_s=30.0)
    eventually(lambda: rec.of(HeartbeatFrame), 5, "heartbeats")
    sim.faults.disconnect_all(None)
    eventually(lambda: len(rec.status(FeedConnected)) >= 2, 5, "second connection")
    sim.faults.disconnect_all(None)
    eventually(lambda: len(rec.status(FeedConnected)) >= 3, 5, "third connection")
    attempts = [s.attempt for s in rec.status(FeedReconnecting)]
    assert attempts[:2] == [1, 2]  # quick failures climb the schedule
    clock.advance(31)  # the third connection lives through a healthy period
    sim.faults.disconnect_all(None)
    eventually(lambda: len(rec.status(FeedReconnecting)) >= 3, 5, "third reconnect")
    assert rec.status(FeedReconnecting)[2].attempt == 1


@pytest.mark.slow
def test_feed_subscribes_inside_the_venues_subscribe_window(
    make_sim: Callable[..., SimExchange], credentials: CdpCredentials
) -> None:
    strict = make_sim(subscribe_timeout_s=0.3)
    rec = Recorder()
    feed = WebSocketFeed(
        url=strict.market_ws_url,
        channels=["ticker"],
        product_ids=["BTC-USD"],
        on_frame=rec.on_frame,
        on_status=rec.on_status,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        signer=JwtSigner(credentials, clock=SystemClock()),
    )
    feed.start()
    try:
        # 1.5 s of heartbeats is five times the window: a late subscribe would have been cut.
        eventually(lambda: len(rec.of(HeartbeatFrame)) >= 15, 10, "1.5 s of heartbeats")
        assert len(rec.status(FeedConnected)) == 1
        assert rec.status(FeedDisconnected) == []
    finally:
        assert feed.stop(timeout_s=5)
