"""A channel the consumer has no use for is paused: unsubscribed on the wire until resumed
(``WebSocketFeed.pause``), against the loopback simulated exchange."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.venue import Level2Frame, SkippedFrame, SubscriptionsFrame, TickerFrame
from tests.venue.test_feed_against_sim import Recorder, feeds, start_feed

__all__ = ["feeds", "start_feed"]  # the fixtures, shared with the feed's other sim tests


def _ack_lists_ticker(rec: Recorder) -> bool:
    return "ticker" in rec.of(SubscriptionsFrame)[-1].subscriptions


def _frames_after(rec: Recorder, frame: object) -> list[object]:
    frames = rec.of(object)
    return frames[frames.index(frame) + 1 :]


def test_a_paused_channel_is_unsubscribed_and_subscribed_again_with_a_snapshot_on_resume(
    sim: SimExchange, start_feed: Callable[..., tuple[Any, Recorder]]
) -> None:
    feed, rec = start_feed()
    eventually(lambda: rec.of(TickerFrame) and rec.of(Level2Frame), 5, "ticker and level2")
    feed.pause(["ticker"])
    sim.step()  # a frame makes the feed thread act on the pause
    eventually(lambda: not _ack_lists_ticker(rec), 5, "the ticker unsubscribed")
    unsubscribed = rec.of(SubscriptionsFrame)[-1]
    level2_before = len(rec.of(Level2Frame))
    sim.step(3)
    eventually(lambda: len(rec.of(Level2Frame)) >= level2_before + 3, 5, "three more steps")
    after = _frames_after(rec, unsubscribed)
    assert not [f for f in after if type(f) in (TickerFrame, SkippedFrame)]  # none sent

    feed.pause(())
    sim.step()
    eventually(lambda: _ack_lists_ticker(rec), 5, "the ticker subscribed again")
    resumed = rec.of(SubscriptionsFrame)[-1]
    ticker = eventually(
        lambda: [f for f in _frames_after(rec, resumed) if type(f) is TickerFrame], 5, "a ticker"
    )[0]
    assert ticker.tickers  # the channel's snapshot first: a fallback mark at once
    assert feed.stats().gaps == 0
