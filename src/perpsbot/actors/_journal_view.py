"""What the executor reads from the journal at startup: its unfinished intents, their fills and
the last positions.

The journal actor is the only writer; the executor reads through a read-only view (the
journal's ``JournalReader`` is one), after a ``SyncJournal`` round trip made sure everything
told before was committed. The view is opened for one reconciliation and closed after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from perpsbot.messages import OrderFilled, OrderIntent, OrderUpdated, PositionChanged

__all__ = ["JournalView", "JournaledIntent"]


class JournaledIntent(Protocol):
    """An intent the journal recorded (write-ahead), with its order's last transition."""

    @property
    def intent(self) -> OrderIntent: ...

    @property
    def client_order_id(self) -> str: ...

    @property
    def order(self) -> OrderUpdated | None:
        """The last journaled ``OrderUpdated`` of the order; None if there was none."""
        ...


class JournalView(Protocol):
    """A read-only view of the journal."""

    def unfinished_intents(self) -> Sequence[JournaledIntent]:
        """Every recorded intent whose order is not terminal (or has no transition), oldest
        first."""
        ...

    def fills(self, *, client_order_id: str) -> Sequence[OrderFilled]:
        """The fills journaled for one order."""
        ...

    def latest_positions(self) -> Mapping[str, PositionChanged]:
        """Each symbol's last journaled ``PositionChanged``."""
        ...

    def close(self) -> None: ...
