"""How the feed waits for messages: never while one has arrived; optionally a little after
a small read, to take a trickle in batches.

Before it flushes its consumer and waits, the feed reads what the socket already holds with a
read that never waits (:func:`read_ahead`): messages that arrived while the previous ones
were handled are handled at once, in the same batch, so a burst of a few messages (one
market step of every symbol) costs one flush and one wake-up, and a complete message never
waits. The feed waits only on an empty socket or a message cut short. A plain socket is read
straight from its descriptor (``os.readv``; a socket with a timeout is non-blocking
underneath): one system call, where the socket's own method polls first. A socket without a
timeout is polled (``poll`` with no timeout). A TLS socket is read ahead only for what it has
decrypted already: raw bytes may be a record cut short, whose read would wait for the rest.


The trickle linger trades latency for CPU and is off by default (``linger_s`` 0). At low
rates a wake-up of the feed thread per message (and of the mark window per flush) is most of
the CPU a message costs. After a read that did not fill the feed's read buffer (a trickle: a
burst fills it), a feed with a linger waits up to ``linger_s`` before the next, until half
a buffer is waiting: the socket's receive low-water mark makes it readable only then, so a
burst ends the wait at once while a trickle is read many messages at a time. The mark is
half the buffer so that the read after a wait does not fill it, and the feed lingers again.
Where the platform has no low-water mark the wait simply runs its course.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_LINGER_S", "read_ahead", "trickle_lingerer"]

#: How long the feed waits at most after a small read: not at all by default (a message of a
#: trickle would wait that long; the read-ahead already batches what arrives together).
DEFAULT_LINGER_S = 0.0


def read_ahead(sock: Any) -> Callable[[memoryview, int], int]:
    """The reader's ``read_ahead(into, size)`` for ``sock``: what has arrived, at most
    ``size`` bytes, read into ``into`` without waiting; 0 when nothing has (or the peer
    closed: the read that waits finds that out)."""
    pending = getattr(sock, "pending", None)  # TLS: bytes decrypted already, not yet read
    if pending is None and sock.gettimeout() is not None:
        fd = sock.fileno()  # non-blocking underneath: a read returns at once

        def direct(into: memoryview, size: int) -> int:
            try:
                return os.readv(fd, (into[:size],))
            except BlockingIOError:
                return 0

        return direct
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poll = poller.poll

    def polled(into: memoryview, size: int) -> int:
        if pending is not None:
            # TLS: only what is decrypted already. Raw bytes may be a record cut short, and
            # a read would wait for the rest of it (up to the socket's timeout) unflushed.
            if not pending():
                return 0
        elif not poll(0):
            return 0
        received: int = sock.recv_into(into, size)
        return received

    return polled


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
