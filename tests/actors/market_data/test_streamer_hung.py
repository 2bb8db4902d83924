"""A streamer abandoned as hung must not leave its feed running into its successor's life."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from perpsbot.actors import MarkWindowActor, StreamerActor, mark_window_mailbox
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.messages import PendingMark
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, Coalescer, SupervisorSpec
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import Backoff, VenueLink, VenueRateLimiter, WebSocketFeed
from tests.runtime.conftest import Block


class HangableStreamer(StreamerActor):
    """The real streamer, plus a message that blocks its thread; records the feeds it starts."""

    feeds: list[WebSocketFeed]

    def on_start(self) -> None:
        super().on_start()
        self.feeds.append(self.inspect_feed())

    def inspect_feed(self) -> WebSocketFeed:
        feed = self._feed  # the one thing the public state does not expose: the object
        assert feed is not None
        return feed

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Block):
            message.entered.set()
            message.release.wait(30)
            return
        super().on_receive(message)


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(
        SimConfig(tick_interval_s=0.02, seed=3, verify_auth=False), clock=SystemClock()
    ) as sim:
        yield sim


def test_the_feed_of_a_streamer_replaced_as_hung_stops(sim: SimExchange) -> None:
    clock = SystemClock()
    link = VenueLink(
        rest_base_url=sim.rest_base_url,
        market_ws_url=sim.market_ws_url,
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
        feed_backoff=Backoff(initial_s=0.05, max_s=0.2),
    )
    feeds: list[WebSocketFeed] = []
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")

    def streamer(ctx: ActorContext) -> StreamerActor:
        actor = HangableStreamer(context=ctx, venue=link, feed_marks=feed_marks)
        actor.feeds = feeds
        return actor

    config = BotConfig(market_data=MarketDataConfig(symbols=("BTC-USD",), stale_after_s=5.0))
    system = ActorSystem("t", clock=clock, watchdog_interval_s=0.1, watchdog_timeout_s=0.5)
    block = Block(threading.Event())
    try:
        system.start(
            SupervisorSpec(
                name="md",
                children=[
                    ChildSpec(
                        name="marks",
                        factory=lambda ctx: MarkWindowActor(context=ctx, feed_marks=feed_marks),
                        mailbox=mark_window_mailbox,
                    ),
                    ChildSpec(name="streamer", factory=streamer),
                ],
            ),
            config=config,
        )
        eventually(lambda: len(feeds) == 1 and feeds[0].stats().frames > 0, 10, "a live feed")
        system.address("md/streamer").tell(block)
        assert block.entered.wait(5)
        eventually(lambda: len(feeds) == 2, 10, "the watchdog to start a successor")
        eventually(lambda: not feeds[0].running, 10, "the abandoned streamer's feed to stop")
        eventually(lambda: feeds[1].stats().frames > 0, 10, "the successor's feed to run")
        assert feeds[1].running
    finally:
        block.release.set()
        system.shutdown()
