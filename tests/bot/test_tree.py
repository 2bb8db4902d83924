from __future__ import annotations

from perpsbot.bot import WIRING, bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, ExecutionConfig, VenueConfig
from perpsbot.messages import (
    FeedReconnecting,
    FeedState,
    FeedStatusChanged,
    FeedStopped,
)
from perpsbot.runtime import CommandMailbox, RestartStrategy
from perpsbot.runtime._mailbox import message_of
from perpsbot.venue import VenueLink, VenueRateLimiter


def test_feed_statuses_conflate_in_the_streamer_and_reporter_mailboxes() -> None:
    clock = SystemClock()
    link = VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url="ws://127.0.0.1:9/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
    )
    spec = bot_spec(BotConfig(), link, report=True)
    boxes = {child.name: child.mailbox() for child in spec.children}
    streamer, reporter = boxes["streamer"], boxes["reporter"]
    for attempt in range(1, 1001):  # a reconnect storm: only the latest state matters
        streamer.tell(_reconnecting(attempt))
        reporter.tell(_changed(attempt))
    stopped = FeedStopped(message_id="s", ts_created_ns=0, feed="market")
    streamer.tell(stopped)  # the feed's end is never conflated away
    assert [message_of(streamer.get()) for _ in range(streamer.depth())] == [
        _reconnecting(1000),
        stopped,
    ]
    assert reporter.depth() == 1
    assert message_of(reporter.get()) == _changed(1000)


def _link() -> VenueLink:
    clock = SystemClock()
    return VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url="ws://127.0.0.1:9/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
    )


def test_the_tree_starts_in_the_design_order_journal_first_reporter_last() -> None:
    spec = bot_spec(BotConfig(), _link(), report=True)
    assert [child.name for child in spec.children] == [
        "journal", "portfolio", "risk", "executor", "marks", "strategy", "streamer", "poller",
        "userfeed", "reporter",
    ]  # fmt: skip
    assert spec.strategy is RestartStrategy.REST_FOR_ONE


def test_a_slower_venue_gives_the_executor_a_longer_watchdog_allowance() -> None:
    def executor_hang_s(request_timeout_s: float) -> float:
        config = BotConfig(venue=VenueConfig(request_timeout_s=request_timeout_s))
        spec = bot_spec(config, _link())
        timeout = next(c.hang_timeout_s for c in spec.children if c.name == "executor")
        assert timeout is not None
        return timeout

    assert executor_hang_s(2.0) > BotConfig().runtime.watchdog_timeout_s + 2.0
    assert executor_hang_s(20.0) > executor_hang_s(10.0) > executor_hang_s(2.0)


def test_the_executor_mailbox_refuses_place_orders_past_max_pending_orders() -> None:
    config = BotConfig(execution=ExecutionConfig(max_pending_orders=3))
    spec = bot_spec(config, _link())
    mailbox = next(c.mailbox() for c in spec.children if c.name == "executor")
    assert isinstance(mailbox, CommandMailbox)
    assert mailbox.capacity == 3


def _reconnecting(attempt: int) -> FeedReconnecting:
    return FeedReconnecting(
        message_id="r", ts_created_ns=0, feed="market", attempt=attempt, delay_s=1.0, reason="x"
    )


def _changed(attempt: int) -> FeedStatusChanged:
    return FeedStatusChanged(
        message_id="c", ts_created_ns=0, state=FeedState.RECONNECTING, attempt=attempt
    )


def test_the_tree_is_wired_by_the_one_table_without_a_reporter_when_none_reports() -> None:
    quiet, reporting = bot_spec(BotConfig(), _link()), bot_spec(BotConfig(), _link(), report=True)
    assert reporting.wiring == WIRING
    told = {name for route in quiet.wiring.routes for name in route.subscribers}
    assert "reporter" not in told
    assert quiet.wiring == WIRING.only({child.name for child in quiet.children})
    # The feed's state is told to a poller or reporter restarted without the streamer.
    [feed] = [route for route in WIRING.routes if route.topic is FeedStatusChanged]
    assert (feed.publisher, feed.subscribers, feed.latest) == (
        "streamer",
        ("risk", "poller", "reporter"),
        True,
    )
