"""The feed's reconnect schedule, on a fake clock against a port that refuses connections."""

from __future__ import annotations

import random
import threading

import pytest

from perpsbot.clock import FakeClock
from perpsbot.messages import (
    FeedReconnecting,
    FeedStatus,
    FeedStopped,
)
from perpsbot.venue import (
    Backoff,
    VenueRateLimiter,
    WebSocketFeed,
)
from tests.support.waits import FakeWait
from tests.venue.loopback import closed_port

BACKOFF = Backoff(initial_s=0.5, max_s=30.0, multiplier=2.0, jitter=0.5)


def _run_refused(simulated_s: float, clock: FakeClock) -> tuple[WebSocketFeed, list[FeedStatus]]:
    statuses: list[FeedStatus] = []
    start = clock.monotonic()
    done = threading.Event()

    def wait(stop: threading.Event, seconds: float) -> bool:
        clock.advance(seconds)
        if clock.monotonic() - start >= simulated_s:
            done.set()
            return True
        return stop.is_set()

    feed = WebSocketFeed(
        url=f"ws://127.0.0.1:{closed_port()}/ws",
        channels=["ticker", "level2"],
        product_ids=["BTC-USD"],
        on_frame=lambda frame: None,
        on_status=statuses.append,
        limiter=VenueRateLimiter(clock=clock, wait=FakeWait(clock)),
        clock=clock,
        backoff=BACKOFF,
        wait=wait,
        rng=random.Random(11),
        connect_timeout_s=2.0,
    )
    feed.start()
    assert done.wait(20), "the feed never reached the end of the simulated period"
    assert feed.stop(timeout_s=5)
    return feed, statuses


def test_refused_connections_for_30_simulated_seconds_cause_no_reconnect_storm(
    fake_clock: FakeClock,
) -> None:
    feed, statuses = _run_refused(30.0, fake_clock)
    reconnecting = [s for s in statuses if isinstance(s, FeedReconnecting)]
    # Floors of the schedule: 0.25 + 0.5 + 1 + 2 + 4 + 8 + 15 > 30, so at most 7 retries.
    assert feed.stats().connect_attempts <= 8
    assert feed.stats().connects == 0
    assert [s.attempt for s in reconnecting] == list(range(1, len(reconnecting) + 1))
    for status in reconnecting:
        assert (
            BACKOFF.floor_s(status.attempt) <= status.delay_s <= BACKOFF.ceiling_s(status.attempt)
        )
        assert status.reason.startswith("connect failed: ConnectionRefusedError")
    assert isinstance(statuses[-1], FeedStopped)


def test_reconnecting_never_gives_up_and_delays_stay_capped(fake_clock: FakeClock) -> None:
    feed, statuses = _run_refused(900.0, fake_clock)
    reconnecting = [s for s in statuses if isinstance(s, FeedReconnecting)]
    assert len(reconnecting) >= 30  # still trying after 15 simulated minutes
    assert max(s.delay_s for s in reconnecting) <= BACKOFF.max_s
    assert feed.stats().connect_attempts == len(reconnecting)


def test_unknown_channels_are_refused_at_construction(fake_clock: FakeClock) -> None:
    with pytest.raises(
        ValueError, match=r"channels must be among .* found \['heartbeat', 'matches'\]"
    ):
        WebSocketFeed(
            url="ws://127.0.0.1:1/ws",
            channels=["heartbeat", "matches"],
            product_ids=["BTC-USD"],
            on_frame=lambda frame: None,
            on_status=lambda status: None,
            limiter=VenueRateLimiter(clock=fake_clock),
            clock=fake_clock,
        )
