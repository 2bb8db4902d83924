"""What a recorder of the market data takes: each websocket message as received, and each
REST quote. ``perpsbot.data.RecordingWriter`` is one; the bot's tree hands one to its
streamer and its quote poller when ``perpsbot run --record FILE`` asks for it."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

__all__ = ["FeedRecorder"]


class FeedRecorder(Protocol):
    """Records what the market-data feed and the quote poller received; safe from any thread
    and quick (the feed thread calls it for every message)."""

    def frame(self, raw: bytes, received_ns: int) -> None:
        """One websocket message, as its bytes arrived, at ``received_ns`` (Unix ns)."""

    def quote(
        self, product_id: str, bid: Decimal | None, ask: Decimal | None, received_ns: int
    ) -> None:
        """One REST best bid and ask."""
