"""One websocket client of the sim: its subscriptions, its sequence counter, its send queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from perpsbot.sim._wire import dumps, rfc3339_ns

_log = logging.getLogger("perpsbot.sim.ws")
MAX_QUEUED_FRAMES = 20_000


class WsClient:
    """Owned by the hub's event loop; nothing here is touched from another thread."""

    def __init__(self, ws: ServerConnection, path: str) -> None:
        self.ws = ws
        self.path = path
        self.sequence = 0
        self.subscriptions: dict[str, set[str]] = {}
        self.trades_after = 0  # market_trades updates carry only trade ids above this
        self.last_batch: dict[str, dict[str, Any]] = {}  # ticker_batch: last ticker sent
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            # CancelledError: we cancelled it ourselves just above.
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    def wants(self, channel: str, product_id: str | None = None) -> bool:
        products = self.subscriptions.get(channel)
        if products is None:
            return False
        return product_id is None or not products or product_id in products

    def push(
        self, channel: str, events: list[dict[str, Any]], time_ns: int, *, repeat: int = 1
    ) -> None:
        """Queue one enveloped message (``repeat`` times); it takes the next sequence number."""
        envelope = {
            "channel": channel,
            "client_id": "",
            "timestamp": rfc3339_ns(time_ns),
            "sequence_num": self.sequence,
            "events": events,
        }
        self.sequence += 1
        text = dumps(envelope).decode()
        for _ in range(repeat):
            self.push_text(text)

    def push_text(self, text: str) -> None:
        """Queue a raw frame (errors, injected garbage); it takes no sequence number."""
        if self._queue.qsize() >= MAX_QUEUED_FRAMES:
            _log.warning(
                "sim ws client %s is too slow (%d frames queued); dropping it",
                self.ws.remote_address,
                self._queue.qsize(),
            )
            self.ws.transport.abort()
            return
        self._queue.put_nowait(text)

    def subscriptions_event(self) -> dict[str, Any]:
        active: dict[str, list[str]] = {}
        for channel, products in sorted(self.subscriptions.items()):
            active[channel] = sorted(products) if products else [channel]
        return {"subscriptions": active}

    async def _write(self) -> None:
        try:
            while True:
                text = await self._queue.get()
                await self.ws.send(text)
        except ConnectionClosed:
            return
