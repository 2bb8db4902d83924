"""A total deadline on every socket operation of a ``requests`` call.

``requests`` (urllib3) has a connect timeout and a *per read* timeout: a server that sends
one byte just inside the read timeout, in the headers or in the body, holds a call for as
long as it likes. Neither library offers a total deadline, and nothing but the blocked
thread itself can end a blocking read without a second thread. So the sessions of our REST
clients build their connections through :class:`DeadlineAdapter`, whose sockets give every
``connect``, ``send`` and ``recv`` at most what is left of the deadline of the call in
progress (:func:`within`). Past the deadline the next operation raises ``TimeoutError``,
which urllib3 reports as a timeout like any other; the connection is then discarded.
"""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import attrs
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from perpsbot.clock import Clock

__all__ = ["Deadline", "DeadlineAdapter", "within"]


@attrs.frozen
class Deadline:
    """A point on ``clock``'s monotonic time that a call must end by."""

    clock: Clock
    at_s: float

    def remaining_s(self) -> float:
        return self.at_s - self.clock.monotonic()


_current: ContextVar[Deadline | None] = ContextVar("perpsbot_venue_deadline", default=None)


@contextlib.contextmanager
def within(deadline: Deadline) -> Iterator[None]:
    """Every socket operation of a deadline-aware session in this block ends by ``deadline``."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def _left_s(op_timeout_s: float | None) -> float | None:
    """The timeout for the next operation: the socket's own, cut to the call's deadline."""
    deadline = _current.get()
    if deadline is None:
        return op_timeout_s
    left = deadline.remaining_s()
    if left <= 0:
        raise TimeoutError("the call's deadline passed")
    return left if op_timeout_s is None else min(left, op_timeout_s)


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose operations stop at the call's deadline.

    Only what http.client and urllib3 use is wrapped; the rest is delegated. ``makefile``
    and the reference counting mirror :class:`socket.socket`, so that closing the connection
    while its response is still open closes the socket only when the response is done.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout_s = sock.gettimeout()
        self._io_refs = 0
        self._closed = False

    def _arm(self) -> None:
        self._sock.settimeout(_left_s(self._timeout_s))

    def settimeout(self, timeout_s: float | None) -> None:
        self._timeout_s = timeout_s
        self._sock.settimeout(timeout_s)

    def gettimeout(self) -> float | None:
        return self._timeout_s

    def recv(self, size: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(size, flags)

    def recv_into(self, buffer: Any, size: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, size, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        self._arm()
        return self._sock.send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        view = memoryview(data).cast("B")
        while view:  # one send at a time, so a slow reader cannot stretch the deadline
            view = view[self.send(view, flags) :]

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_: Any) -> Any:
        if mode != "rb":
            raise ValueError(f"a deadline socket makes 'rb' files only, was asked for {mode!r}")
        self._io_refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"), buffering or io.DEFAULT_BUFFER_SIZE)  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _cut_connect_timeout(conn: HTTPConnection) -> None:
    timeout = conn.timeout if isinstance(conn.timeout, (int, float)) else None
    cut = _left_s(timeout)
    if cut is not None:
        conn.timeout = cut


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        _cut_connect_timeout(self)
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _cut_connect_timeout(self)
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def _use_deadline_pools(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
    return manager


class DeadlineAdapter(HTTPAdapter):
    """A ``requests`` transport adapter whose connections honour :func:`within`.

    Mount it on a session for ``http://`` and ``https://``; outside :func:`within` it behaves
    exactly like the default adapter.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_deadline_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _use_deadline_pools(super().proxy_manager_for(proxy, **proxy_kwargs))
