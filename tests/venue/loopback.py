"""A tiny websocket server on 127.0.0.1 (the ``websockets`` library) for frame-level tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from websockets.sync.server import ServerConnection, serve


@contextmanager
def ws_server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    """Serve ``handler`` per connection; yields the ``ws://`` URL."""
    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}/ws"
        finally:
            server.shutdown()
            thread.join(5)


def closed_port() -> int:
    """A loopback port with nothing listening (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
