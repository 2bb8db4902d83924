from __future__ import annotations

from perpsbot.bot import bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, RuntimeConfig
from perpsbot.runtime import BoundedMailbox, Overflow
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
