"""The journal's mailbox: FIFO and unbounded (nothing told to the journal is dropped), with a
way for an orderly stop to take what is still queued and journal it."""

from __future__ import annotations

from typing import Any

from perpsbot.runtime import FifoMailbox

__all__ = ["JournalMailbox", "journal_mailbox"]


class JournalMailbox(FifoMailbox):
    """The journal's unbounded FIFO mailbox, whose queue an orderly stop can still journal."""

    def take_queued(self) -> list[Any]:
        """Remove and return the normal lane's items, oldest first (control lane untouched)."""
        items = []
        while (item := self._take_normal()) is not None:
            items.append(item)
        return items


def journal_mailbox() -> JournalMailbox:
    """The journal's mailbox: FIFO, unbounded (nothing told to the journal is dropped)."""
    return JournalMailbox()
