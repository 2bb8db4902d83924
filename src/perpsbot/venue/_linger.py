"""Taking a trickle of messages in batches: the feed's wait after a small read.

At low rates a wake-up of the feed thread per message (and of the mark window per flush)
is most of the CPU a message costs. After a read that did not fill the feed's read buffer
(a trickle: a burst fills it), the feed waits up to ``linger_s`` before the next, until half
a buffer is waiting: the socket's receive low-water mark makes it readable only then, so a
burst ends the wait at once while a trickle is read many messages at a time. The mark is
half the buffer so that the read after a wait does not fill it, and the feed lingers again.
Where the platform has no low-water mark the wait simply runs its course.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_LINGER_S", "trickle_lingerer"]

#: How long the feed waits at most after a small read: 10 ms, nothing next to the mark
#: window's sampling cycle (``market_data.update_interval_s``, seconds).
DEFAULT_LINGER_S = 0.010


def trickle_lingerer(
    sock: Any, linger_s: float, stop: threading.Event, read_bytes: int
) -> Callable[[int], None] | None:
    """The reader's ``linger(last_read_bytes)`` for ``sock``, whose reads take at most
    ``read_bytes``; None when ``linger_s`` is 0.

    A stop ends the wait early (the feed aborts the socket, which makes it readable).
    """
    if linger_s <= 0:
        return None
    lowat = getattr(socket, "SO_RCVLOWAT", None)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    pending = getattr(sock, "pending", None)  # TLS: bytes decrypted already, not yet read
    timeout_ms = linger_s * 1000
    batch_bytes = max(1, read_bytes // 2)

    def linger(last_read_bytes: int) -> None:
        if last_read_bytes >= read_bytes or (pending is not None and pending()):
            return
        if lowat is None:
            stop.wait(linger_s)
            return
        sock.setsockopt(socket.SOL_SOCKET, lowat, batch_bytes)
        try:
            poller.poll(timeout_ms)
        finally:
            sock.setsockopt(socket.SOL_SOCKET, lowat, 1)

    return linger
