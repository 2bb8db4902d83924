"""The trading actors. Each owns its state and talks only through messages."""

from perpsbot.actors.mark_window import MarkWindowActor, mark_window_mailbox, window_length

__all__ = ["MarkWindowActor", "mark_window_mailbox", "window_length"]
