"""The trading actors. Each owns its state and talks only through messages."""

from perpsbot.actors.mark_window import MarkWindowActor, mark_window_mailbox, window_length
from perpsbot.actors.quote_poller import PollQuotes, QuotePollerActor, poller_mailbox
from perpsbot.actors.risk import OperatorCommand, RiskActor, risk_mailbox
from perpsbot.actors.strategy import StrategyActor
from perpsbot.actors.streamer import CHANNELS, StreamerActor

__all__ = [
    "CHANNELS",
    "MarkWindowActor",
    "OperatorCommand",
    "PollQuotes",
    "QuotePollerActor",
    "RiskActor",
    "StrategyActor",
    "StreamerActor",
    "mark_window_mailbox",
    "poller_mailbox",
    "risk_mailbox",
    "window_length",
]
