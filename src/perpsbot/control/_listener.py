"""A listening socket served by one accept thread that stops at once when closed."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Listener"]

logger = logging.getLogger("perpsbot.control")


class Listener:
    """Accepts connections on ``sock`` (bound and listening) and hands each to ``handle``.

    ``handle(connection, address)`` runs on the accept thread: a long conversation starts
    its own thread. Closing shuts the socket down, which wakes a blocked ``accept`` at once
    on Linux, so a stopping daemon never waits for a poll interval.
    """

    def __init__(
        self, sock: socket.socket, handle: Callable[[socket.socket, Any], None], *, name: str
    ) -> None:
        self.socket = sock
        self._handle = handle
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop accepting and close the socket; connections already handed over carry on."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):  # already shut: accept() wakes on close() anyway
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                connection, address = self.socket.accept()
            except OSError:
                if self._closed.is_set():
                    return
                logger.exception("%s: accept failed; still listening", self._thread.name)
                self._closed.wait(0.1)  # e.g. out of file descriptors: do not spin
                continue
            try:
                self._handle(connection, address)
            except Exception:
                # One bad connection must not end the listener; it is logged and dropped.
                logger.exception("%s: a connection failed", self._thread.name)
                connection.close()
