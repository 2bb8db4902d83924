"""A stdlib socket server on a thread of its own, as both HTTP faces of the simulated exchange
(REST and the Global Derivatives gateway's) serve."""

from __future__ import annotations

import socketserver
import threading

__all__ = ["STOP_POLL_S", "serve_in_thread"]

#: How often the serving loop looks whether it was told to stop: ``shutdown()`` returns within
#: about this long (a test suite stops hundreds of exchanges), for as many idle wake-ups a second.
STOP_POLL_S = 0.01


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Start serving ``server`` on a daemon thread called ``name``; ``server.shutdown()``
    ends it."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": STOP_POLL_S},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread
