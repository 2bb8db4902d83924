"""A market-data websocket endpoint that plays recorded messages when told: a recording's
frames, sent one at a time to whoever is connected, exactly as they were received.

A replay drives it (``perpsbot backtest --data FILE.recording``): the bot's own feed connects
as to the venue and decodes what it is sent with its own decoder. Subscribe messages are
read and counted, not answered: the recording holds the answers the live feed got.
"""

from __future__ import annotations

import threading

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["FrameReplayServer"]


class FrameReplayServer:
    """Serves ``ws://127.0.0.1:PORT/ws`` on its own thread; :meth:`send` plays a frame."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server: Server = serve(self._serve, host, 0, max_size=None, ping_interval=None)
        self.port = int(self._server.socket.getsockname()[1])
        self._lock = threading.Condition()
        self._connection: ServerConnection | None = None
        self.subscribes = 0
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="perpsbot-sim-replay", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _serve(self, connection: ServerConnection) -> None:
        with self._lock:
            self._connection = connection
            self._lock.notify_all()
        try:
            for _ in connection:  # subscribes and unsubscribes: read, never answered
                with self._lock:
                    self.subscribes += 1
                    self._lock.notify_all()
        except ConnectionClosed:
            pass  # the feed reconnects or stops; the next connection takes over
        finally:
            with self._lock:
                if self._connection is connection:
                    self._connection = None

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Wait (real time) until a client connected and sent a subscribe."""
        with self._lock:
            return self._lock.wait_for(
                lambda: self._connection is not None and self.subscribes > 0, timeout_s
            )

    def send(self, raw: bytes, timeout_s: float) -> None:
        """Send one recorded message to the connected client (waiting for one if needed)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._connection is not None, timeout_s):
                raise TimeoutError(f"no feed connected to the replay within {timeout_s}s")
            connection = self._connection
        assert connection is not None
        connection.send(raw.decode())

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5.0)
