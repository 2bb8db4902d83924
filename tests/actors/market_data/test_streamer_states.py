"""What the streamer publishes for each event of its feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from perpsbot.actors import StreamerActor, streamer_mailbox
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.messages import (
    FeedConnected,
    FeedDisconnected,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedState,
    FeedStatusChanged,
    MarketDataResumed,
    PendingMark,
)
from perpsbot.runtime import ActorSystem, ChildSpec, Coalescer, SupervisorSpec, Wiring
from perpsbot.runtime.testing import Probe
from perpsbot.venue import VenueLink, VenueRateLimiter
from tests.actors.conftest import subscriber_spec

_STAMP: dict[str, Any] = {"message_id": "m", "ts_created_ns": 0, "feed": "market"}

#: The probe stands in for the streamer's subscribers; the feed's state is a latest topic.
_TOLD = Wiring.of({"streamer": {FeedStatusChanged: ("probe",)}}, latest=(FeedStatusChanged,))


@pytest.fixture
def streamer(probe: Probe) -> Iterator[ActorSystem]:
    clock = SystemClock()
    link = VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url="ws://127.0.0.1:9/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
    )
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")
    # Streaming off: no feed of its own, so only the events told here reach it.
    config = BotConfig(market_data=MarketDataConfig(symbols=("BTC-USD",), streaming=False))
    system = ActorSystem("states", clock=clock, watchdog_interval_s=None)
    try:
        system.start(
            SupervisorSpec(
                name="md",
                children=[
                    subscriber_spec(probe, "probe"),
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
        probe.wait_for(lambda events: len(events) == 1, what="the state at start")
        yield system
    finally:
        system.shutdown()


@pytest.mark.parametrize(
    ("event", "state", "detail"),
    [
        (FeedConnected(**_STAMP, url="ws://x", attempt=0), FeedState.CONNECTED, "connected to"),
        (
            FeedGapDetected(**_STAMP, expected=2, found=5),
            FeedState.GAP_DETECTED,
            "sequence gap: expected 2, found 5",
        ),
        (FeedStale(**_STAMP, silent_s=3.0), FeedState.STALE, "no message for 3.0s"),
        (FeedDisconnected(**_STAMP, reason="reset"), FeedState.RECONNECTING, "disconnected: reset"),
        (
            FeedReconnecting(**_STAMP, attempt=2, delay_s=1.5, reason="reset"),
            FeedState.RECONNECTING,
            "reset",
        ),
        (MarketDataResumed(**_STAMP), FeedState.SUBSCRIBED, "market data is flowing"),
    ],
)
def test_each_feed_event_publishes_its_state(
    streamer: ActorSystem, probe: Probe, event: Any, state: FeedState, detail: str
) -> None:
    streamer.address("md/streamer").tell(event)
    events = probe.wait_for(lambda events: len(events) == 2, what=f"the state after {event}")
    published = events[-1]
    assert isinstance(published, FeedStatusChanged)
    assert published.state is state
    assert detail in published.detail
