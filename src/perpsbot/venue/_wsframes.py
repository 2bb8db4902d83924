"""A lean reader of server-to-client websocket frames on a socket websocket-client connected.

websocket-client does the connect, TLS, proxying, handshake and every send; receiving through
its ``recv_data`` costs about 14 us a frame in pure-Python framing (two or three ``recv``
syscalls, several objects and locks per frame). This reader pulls large chunks from the socket
and cuts frames out of them: about 2 us a frame. It reassembles fragmented messages, answers
pings through the websocket-client object, skips pongs, and hands back close frames.
"""

from __future__ import annotations

import selectors
import ssl
from collections.abc import Callable
from typing import Any

__all__ = [
    "OPCODE_BINARY",
    "OPCODE_CLOSE",
    "OPCODE_TEXT",
    "ConnectionClosedError",
    "FrameReader",
    "WebSocketProtocolError",
]

OPCODE_CONT = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA
_CHUNK = 262144


class ConnectionClosedError(ConnectionError):
    """The peer closed the TCP connection (no close frame)."""


class WebSocketProtocolError(ConnectionError):
    """The peer broke the websocket framing rules."""


def _unmask(mask: bytes, payload: bytes) -> bytes:
    # Servers must not mask; tolerate it anyway (slow path).
    key = int.from_bytes((mask * (len(payload) // 4 + 1))[: len(payload)], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")


class FrameReader:
    """Reads complete messages from ``ws.sock``; socket timeouts propagate as ``TimeoutError``.

    Args:
        ws: a connected ``websocket.WebSocket`` (used for its socket and to send pongs).
        max_message_bytes: a larger message is a protocol error (guards memory).
        read_bytes: the most one socket read takes. Large reads are cheapest per message; a
            consumer that flushes in ``on_wait`` picks smaller ones to flush more often.
        on_wait: called before each read of the socket, that is each time every message
            received so far has been returned; a consumer that batches its work flushes here,
            so a burst costs it one flush per socket read and a lone message is never held.
    """

    __slots__ = (
        "_buf", "_frag_opcode", "_fragments", "_max", "_on_wait", "_pos", "_read_bytes", "_recv",
        "_recv_into", "_ws",
    )  # fmt: skip

    def __init__(
        self,
        ws: Any,
        *,
        max_message_bytes: int = 64 * 1024 * 1024,
        read_bytes: int = _CHUNK,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._ws = ws
        self._read_bytes = read_bytes
        self._on_wait = on_wait
        self._recv = ws.sock.recv
        self._recv_into = ws.sock.recv_into
        self._buf = b""
        self._pos = 0
        self._max = max_message_bytes
        self._fragments: list[bytes] = []
        self._frag_opcode = 0

    def _fill(self) -> None:
        if self._on_wait is not None:
            self._on_wait()
        try:
            chunk = self._recv(self._read_bytes)
        except ssl.SSLWantReadError:
            # TLS needs more bytes before it can return data: wait for them, within timeout.
            self._wait_readable()
            chunk = self._recv(self._read_bytes)
        if not chunk:
            raise ConnectionClosedError("the peer closed the connection")
        self._buf = self._buf[self._pos :] + chunk if self._pos < len(self._buf) else chunk
        self._pos = 0

    def _wait_readable(self) -> None:
        sock = self._ws.sock
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            if not selector.select(sock.gettimeout()):
                raise TimeoutError("no data within the socket timeout")

    def _fill_exactly(self, missing: int) -> None:
        # A big frame (a level2 snapshot can be megabytes): read the rest straight into one
        # buffer instead of growing the buffer chunk by chunk (which would be quadratic).
        if self._on_wait is not None:
            self._on_wait()  # what came before it is flushed before the reads block
        rest = bytearray(missing)
        view = memoryview(rest)
        got = 0
        while got < missing:
            n = self._recv_into(view[got:])
            if not n:
                raise ConnectionClosedError("the peer closed the connection mid-frame")
            got += n
        self._buf = self._buf[self._pos :] + rest
        self._pos = 0

    def read(self) -> tuple[int, bytes]:
        """The next data message ``(opcode, payload)``, or ``(OPCODE_CLOSE, payload)``."""
        while True:
            buf = self._buf
            pos = self._pos
            avail = len(buf) - pos
            if avail >= 2:
                b1 = buf[pos]
                b2 = buf[pos + 1]
                length = b2 & 0x7F
                head = 2
                if length == 126:
                    head = 4
                    if avail >= 4:
                        length = (buf[pos + 2] << 8) | buf[pos + 3]
                elif length == 127:
                    head = 10
                    if avail >= 10:
                        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if b2 & 0x80:
                    head += 4
                end = pos + head + length
                if avail >= head and length > self._max:
                    raise WebSocketProtocolError(
                        f"frame of {length} bytes exceeds the {self._max}-byte limit"
                    )
                if len(buf) >= end and avail >= head:
                    payload = buf[pos + head : end]
                    self._pos = end
                    if b2 & 0x80:
                        payload = _unmask(buf[pos + head - 4 : pos + head], payload)
                    opcode = b1 & 0x0F
                    if b1 & 0x80:  # FIN
                        if opcode in (OPCODE_TEXT, OPCODE_BINARY):
                            return opcode, payload
                        message = self._control_or_last_fragment(opcode, payload)
                        if message is not None:
                            return message
                    else:
                        self._fragment(opcode, payload)
                    continue
                if avail >= head and end - len(buf) > self._read_bytes:
                    self._fill_exactly(end - len(buf))
                    continue
            self._fill()

    def _fragment(self, opcode: int, payload: bytes) -> None:
        if opcode in (OPCODE_TEXT, OPCODE_BINARY):
            if self._fragments:
                raise WebSocketProtocolError("a new message started inside a fragmented one")
            self._frag_opcode = opcode
        elif opcode != OPCODE_CONT or not self._frag_opcode:
            raise WebSocketProtocolError(f"opcode {opcode} cannot be fragmented here")
        self._fragments.append(payload)
        if sum(len(f) for f in self._fragments) > self._max:
            raise WebSocketProtocolError(f"message exceeds the {self._max}-byte limit")

    def _control_or_last_fragment(self, opcode: int, payload: bytes) -> tuple[int, bytes] | None:
        if opcode == OPCODE_CONT:
            if not self._frag_opcode:
                raise WebSocketProtocolError("a continuation frame arrived outside a message")
            self._fragments.append(payload)
            message = (self._frag_opcode, b"".join(self._fragments))
            self._fragments = []
            self._frag_opcode = 0
            return message
        if opcode == OPCODE_PING:
            self._ws.pong(payload)
            return None
        if opcode == OPCODE_PONG:
            return None
        if opcode == OPCODE_CLOSE:
            return OPCODE_CLOSE, payload
        raise WebSocketProtocolError(f"unknown opcode {opcode}")
