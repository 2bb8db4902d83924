"""Raw-socket servers: a websocket server that does the handshake, then one bulk write of
pre-encoded frames; and a TCP server whose handler writes whatever bytes, paced as it likes.

Bulk writes put many frames in one TCP segment and split headers across reads, which is
what the frame reader meets under load (and what a benchmark of the feed needs). Paced
writes are what a hostile or broken server does to a client's timeouts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def encode_frame(
    payload: bytes,
    opcode: int = 0x1,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length: int | None = None,
) -> bytes:
    """One server frame: final and unmasked unless told; ``length`` overrides the header's."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload) if length is None else length
    masked = 0x80 if mask else 0
    if n < 126:
        head += bytes([masked | n])
    elif n < 65536:
        head += bytes([masked | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([masked | 127]) + n.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def close_frame(code: int) -> bytes:
    return encode_frame(code.to_bytes(2, "big"), opcode=0x8)


def accept_handshake(conn: socket.socket) -> None:
    """Read a client's websocket upgrade request and accept it."""
    request = b""
    while b"\r\n\r\n" not in request:
        request += conn.recv(4096)
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


@contextmanager
def raw_ws_server(stream: bytes, *, byte_by_byte: bool = False) -> Iterator[str]:
    """Accept one client, answer its handshake, write ``stream`` (in one write, or a write per
    byte), keep reading until it leaves."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            accept_handshake(conn)
            try:
                if byte_by_byte:
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for i in range(len(stream)):
                        conn.sendall(stream[i : i + 1])
                else:
                    conn.sendall(stream)
                while conn.recv(65536):
                    pass
            except OSError:
                pass  # the client closed first; nothing left to serve

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        listener.close()
        thread.join(5)


@contextmanager
def raw_tcp_server(serve_one: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """Accept clients until the block ends; ``serve_one(conn, stop)`` serves each on a thread.

    ``stop`` is set when the block ends, so a server that paces its bytes ends with the test.
    Yields ``127.0.0.1:PORT``.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        # OSError: the client gave up first, exactly what these servers provoke.
        with conn, contextlib.suppress(OSError):
            serve_one(conn, stop)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the block ended
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (close alone does not)
        listener.close()
        acceptor.join(5)
        for thread in threads:
            thread.join(5)


def read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request head (these tests send no bodies with it)."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionResetError("the client left before its request was complete")
        request += chunk
    return request
