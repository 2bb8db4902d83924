"""A lean, strict reader of server-to-client websocket frames on a socket websocket-client
connected.

websocket-client does the connect, TLS, proxying, handshake and every send; receiving through
its ``recv_data`` costs about 14 us a frame in pure-Python framing (two or three ``recv``
syscalls, several objects and locks per frame). This reader pulls large chunks from the socket
into one buffer it keeps (``recv_into``: a read allocates nothing, so a long-running feed
leaves the allocator nothing to give back) and cuts frames out of them: about 2 us a frame.
It reassembles fragmented messages, answers pings through the websocket-client object, skips
pongs, and hands back close frames.

It is as strict as RFC 6455: reserved bits set (no extension is ever negotiated), a masked
frame (a server must not mask, section 5.1), an unknown opcode, a data frame inside a
fragmented message, a continuation outside one, a fragmented or over-long (> 125 bytes)
control frame, a close payload of one byte, an invalid close code, a close reason or a text
message that is not UTF-8 (section 8.1) each raise :class:`WebSocketProtocolError`, and the
connection must be failed. Every check but UTF-8 is made on the frame header, before its
payload is read; a text message is checked once whole (an ASCII one at the cost of one
scan). Memory and time stay linear in the bytes received: a payload is allocated as it
arrives (a length header alone allocates nothing), fragments are appended to one buffer, and
a fragmented message counts its frame headers against ``max_message_bytes`` too, so a flood
of empty fragments is bounded like data.
"""

from __future__ import annotations

import selectors
import ssl
from collections.abc import Callable
from typing import Any

import websocket

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "OPCODE_BINARY",
    "OPCODE_CLOSE",
    "OPCODE_TEXT",
    "ConnectionClosedError",
    "FrameReader",
    "WebSocketProtocolError",
    "abort",
    "reply_close",
    "shutdown",
]

OPCODE_CONT = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA
_CHUNK = 262144
_BIG_READ = 1 << 20  # the most one read of a big payload takes (memory grows as it arrives)
#: Room kept in the buffer past a read for what the last one left: a frame header cut short
#: (a partial payload is read on its own, never kept in the buffer).
_HEADER_MAX = 16
_FIN_TEXT = 0x80 | OPCODE_TEXT

#: The largest message accepted by default: 10 MiB, what Coinbase's official SDK allows.
#: Coinbase's largest frames are level2 snapshots (the whole book); the simulated exchange's
#: snapshot of 4 products is 8 KiB at its default depth and 0.8 MiB at 1000 levels a side.
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024

# RFC 6455 section 7.4: the codes an endpoint may send (1004-1006 and 1015 never on the wire).
_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, *range(1007, 1015)))


class ConnectionClosedError(ConnectionError):
    """The peer closed the TCP connection (no close frame)."""


class WebSocketProtocolError(ConnectionError):
    """The peer broke the websocket framing rules; the connection must be failed."""


def abort(ws: Any) -> None:
    """Wake whatever blocks on ``ws``'s socket (websocket-client leaves this untyped)."""
    ws.abort()


def shutdown(ws: Any) -> None:
    """Close ``ws``'s socket without a close frame."""
    ws.shutdown()


def reply_close(ws: Any, status: int = 1000) -> None:
    """Send a close frame with ``status``, as a courtesy: failures are ignored."""
    try:
        ws.send_close(status)
    except OSError:
        pass  # the peer is going away anyway; the socket is shut down next
    except websocket.WebSocketException:
        pass  # same: a close reply is a courtesy


def _text(payload: bytes) -> bytes:
    """``payload`` of a text message, which must be UTF-8 (RFC 6455 8.1)."""
    if not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WebSocketProtocolError(
                f"a text message must be UTF-8 (RFC 6455 8.1), was not: {error.reason} at"
                f" byte {error.start} ({payload[error.start : error.start + 4]!r})"
            ) from None
    return payload


def _check_close(payload: bytes) -> None:
    if len(payload) == 1:
        raise WebSocketProtocolError("a close frame's payload must be empty or >= 2 bytes, was 1")
    if len(payload) >= 2:
        code = int.from_bytes(payload[:2], "big")
        if code not in _CLOSE_CODES and not 3000 <= code < 5000:
            raise WebSocketProtocolError(f"a close code must be valid (RFC 6455 7.4), was {code}")
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketProtocolError(
                f"a close reason must be UTF-8, was {payload[2:40]!r}"
            ) from None


class FrameReader:
    """Reads complete messages from ``ws.sock``; socket timeouts propagate as ``TimeoutError``.

    Args:
        ws: a connected ``websocket.WebSocket`` (used for its socket and to send pongs).
        max_message_bytes: a larger message is a protocol error (guards memory); for a
            fragmented message its frame headers count too.
        read_bytes: the most one socket read takes. Large reads are cheapest per message; a
            consumer that flushes in ``on_wait`` picks smaller ones to flush more often.
        on_wait: called before each read of the socket, that is each time every message
            received so far has been returned; a consumer that batches its work flushes here,
            so a burst costs it one flush per socket read and a lone message is never held.
        linger: called after ``on_wait`` with the size of the previous read: a consumer that
            would rather take a trickle in batches waits here a little when that read was
            small, so the next read finds several messages, not one.
        read_ahead: a read that never waits (``(into, size) -> bytes read``, 0 when nothing
            has arrived). Given, the reader takes what the socket holds before it calls
            ``on_wait``, ``linger`` and the read that waits: a message that arrived while
            the previous ones were handled is returned without waiting and in the same
            batch, and the reader waits only on an empty socket or a message cut short.
            ``on_wait`` still comes at least once per ``read_bytes`` received.
    """

    __slots__ = (
        "_ahead", "_buf", "_end", "_frag", "_frag_opcode", "_frag_wire", "_last_read",
        "_linger", "_max", "_on_wait", "_pos", "_read_bytes", "_recv", "_recv_into",
        "_unflushed", "_view", "_ws",
    )  # fmt: skip

    def __init__(
        self,
        ws: Any,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        read_bytes: int = _CHUNK,
        on_wait: Callable[[], None] | None = None,
        linger: Callable[[int], None] | None = None,
        read_ahead: Callable[[memoryview, int], int] | None = None,
    ) -> None:
        self._ws = ws
        self._read_bytes = read_bytes
        self._on_wait = on_wait
        self._linger = linger
        self._ahead = read_ahead
        self._last_read = read_bytes  # no lingering before the first read
        self._unflushed = 0  # bytes received since on_wait was last called
        self._recv = ws.sock.recv
        self._recv_into = ws.sock.recv_into
        # Bytes [_pos, _end) of _buf are received and not yet returned; reads go after them.
        self._buf = bytearray(read_bytes + _HEADER_MAX)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self._max = max_message_bytes
        self._frag = bytearray()  # the fragmented message so far
        self._frag_opcode = 0  # its opcode; 0 while no fragmented message is open
        self._frag_wire = 0  # its bytes on the wire, frame headers included

    def read(self) -> tuple[int, bytes]:
        """The next data message ``(opcode, payload)``, or ``(OPCODE_CLOSE, payload)``.

        Raises:
            WebSocketProtocolError: the peer broke the framing rules.
            ConnectionClosedError: the peer closed the connection.
            TimeoutError: nothing arrived within the socket's timeout.
        """
        while True:
            buf = self._buf
            pos = self._pos
            avail = self._end - pos
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
                    raise WebSocketProtocolError(
                        "a server's frame must not be masked (RFC 6455 5.1), this one was"
                    )
                if avail >= head:
                    if b1 != _FIN_TEXT or self._frag_opcode or length > self._max:
                        self._check_header(b1, head, length)
                    end = pos + head + length
                    if self._end >= end:
                        payload = self._view[pos + head : end].tobytes()
                        self._pos = end
                    else:  # read the rest of this frame only (never re-copy a growing buffer)
                        payload = self._read_payload(pos + head, length)
                    if b1 == _FIN_TEXT:
                        return OPCODE_TEXT, _text(payload)
                    message = self._complete(b1, payload)
                    if message is not None:
                        return message
                    continue
            self._fill()

    # -- the socket ------------------------------------------------------------------------

    def _fill(self) -> None:
        kept = self._end - self._pos  # a header cut short: less than _HEADER_MAX bytes
        if kept:
            self._buf[:kept] = self._buf[self._pos : self._end]
        self._pos = 0
        self._end = kept
        into = self._view[kept:] if kept else self._view
        ahead = self._ahead
        if ahead is not None and self._unflushed < self._read_bytes:
            received = ahead(into, self._read_bytes)
            if received > 0:  # what arrived meanwhile: no flush, no wait
                self._last_read = received
                self._unflushed += received
                self._end = kept + received
                return
        if self._on_wait is not None:
            self._on_wait()
        if self._linger is not None:
            self._linger(self._last_read)
        received = self._recv_some_into(into, self._read_bytes)
        self._last_read = self._unflushed = received
        self._end = kept + received

    def _recv_some_into(self, into: memoryview, size: int) -> int:
        try:
            received: int = self._recv_into(into, size)
        except ssl.SSLWantReadError:
            # TLS needs more bytes before it can return data: wait for them, within timeout.
            self._wait_readable()
            received = self._recv_into(into, size)
        if not received:
            raise ConnectionClosedError("the peer closed the connection")
        return received

    def _recv_some(self, size: int) -> bytes:
        try:
            chunk: bytes = self._recv(size)
        except ssl.SSLWantReadError:
            # TLS needs more bytes before it can return data: wait for them, within timeout.
            self._wait_readable()
            chunk = self._recv(size)
        if not chunk:
            raise ConnectionClosedError("the peer closed the connection")
        return chunk

    def _wait_readable(self) -> None:
        sock = self._ws.sock
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            if not selector.select(sock.gettimeout()):
                raise TimeoutError("no data within the socket timeout")

    def _read_payload(self, start: int, length: int) -> bytes:
        """A payload longer than what is buffered: read its rest as it arrives, so memory
        grows with the bytes received (never with what a header announces) and no byte is
        copied more than twice, however the peer splits its writes."""
        if self._on_wait is not None:
            self._on_wait()  # what came before it is flushed before the reads block
        self._unflushed = 0
        payload = bytearray(self._view[start : self._end])
        self._pos = self._end = 0
        while len(payload) < length:
            payload += self._recv_some(min(length - len(payload), _BIG_READ))
        return bytes(payload)

    # -- the rules -------------------------------------------------------------------------

    def _check_header(self, b1: int, head: int, length: int) -> None:
        """Every rule a frame header can break, checked (once per frame) before its payload
        is read; counts a fragment's wire bytes."""
        if b1 & 0x70:
            raise WebSocketProtocolError(
                f"reserved bits must be 0 (no extension was negotiated), were {b1 >> 4 & 7:03b}"
            )
        opcode = b1 & 0x0F
        if opcode >= OPCODE_CLOSE:
            if opcode > OPCODE_PONG:
                raise WebSocketProtocolError(f"opcode must be known, was {opcode:#x}")
            if not b1 & 0x80:
                raise WebSocketProtocolError(f"a control frame (opcode {opcode:#x}) was fragmented")
            if length > 125:
                raise WebSocketProtocolError(
                    f"a control frame's payload must be <= 125 bytes, was {length}"
                )
            return
        if opcode == OPCODE_CONT:
            if not self._frag_opcode:
                raise WebSocketProtocolError("a continuation frame arrived outside a message")
        elif opcode in (OPCODE_TEXT, OPCODE_BINARY):
            if self._frag_opcode:
                raise WebSocketProtocolError("a data frame arrived inside a fragmented message")
        else:
            raise WebSocketProtocolError(f"opcode must be known, was {opcode:#x}")
        if length > self._max:
            raise WebSocketProtocolError(
                f"a message must fit in {self._max} bytes, a frame announced {length}"
            )
        if opcode == OPCODE_CONT or not b1 & 0x80:
            self._frag_wire = (self._frag_wire if opcode == OPCODE_CONT else 0) + head + length
            if self._frag_wire > self._max:
                raise WebSocketProtocolError(
                    f"a fragmented message must fit in {self._max} bytes with its frame "
                    f"headers, reached {self._frag_wire}"
                )

    def _complete(self, b1: int, payload: bytes) -> tuple[int, bytes] | None:
        """A frame whose header passed :meth:`_check_header`, with its whole payload."""
        opcode = b1 & 0x0F
        fin = b1 & 0x80
        if opcode == OPCODE_CONT:
            self._frag += payload
            if not fin:
                return None
            whole = bytes(self._frag)
            message = (
                self._frag_opcode,
                _text(whole) if self._frag_opcode == OPCODE_TEXT else whole,
            )
            self._frag = bytearray()
            self._frag_opcode = 0
            return message
        if opcode <= OPCODE_BINARY:
            if fin:
                return opcode, _text(payload) if opcode == OPCODE_TEXT else payload
            self._frag_opcode = opcode
            self._frag += payload
            return None
        if opcode == OPCODE_PING:
            self._ws.pong(payload)
            return None
        if opcode == OPCODE_PONG:
            return None
        _check_close(payload)
        return OPCODE_CLOSE, payload
