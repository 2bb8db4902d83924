from __future__ import annotations

from perpsbot.bot import bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, ExecutionConfig, RuntimeConfig, VenueConfig
from perpsbot.runtime import BoundedMailbox, CommandMailbox, Overflow, Strategy
from perpsbot.venue import VenueLink, VenueRateLimiter


def test_runtime_mailbox_capacity_bounds_every_fifo_mailbox_of_the_tree() -> None:
    clock = SystemClock()
    link = VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",
        market_ws_url="ws://127.0.0.1:9/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
    )
    spec = bot_spec(BotConfig(runtime=RuntimeConfig(mailbox_capacity=7)), link, report=True)
    fifo = {child.name: child.mailbox() for child in spec.children}
    assert {name for name, box in fifo.items() if type(box) is BoundedMailbox} == {
        "streamer",
        "reporter",
    }
    streamer = fifo["streamer"]
    assert isinstance(streamer, BoundedMailbox)
    assert streamer.capacity == 7
    assert streamer.overflow is Overflow.DROP_OLDEST  # a sender never gets an exception


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
        "journal", "risk", "executor", "marks", "strategy", "streamer", "poller", "reporter",
    ]  # fmt: skip
    assert spec.strategy is Strategy.REST_FOR_ONE


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
