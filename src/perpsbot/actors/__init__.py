"""The trading actors. Each owns its state and talks only through messages."""

from perpsbot.actors.mark_window import MarkWindowActor, mark_window_mailbox, window_length
from perpsbot.actors.quote_poller import QuotePollerActor, poller_mailbox
from perpsbot.actors.streamer import CHANNELS, StreamerActor, streamer_mailbox

__all__ = [
    "CHANNELS",
    "MarkWindowActor",
    "QuotePollerActor",
    "StreamerActor",
    "mark_window_mailbox",
    "poller_mailbox",
    "streamer_mailbox",
    "window_length",
]
