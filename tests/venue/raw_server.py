"""A raw-socket websocket server: handshake, then one bulk write of pre-encoded frames.

Bulk writes put many frames in one TCP segment and split headers across reads, which is
what the frame reader meets under load (and what a benchmark of the feed needs).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def encode_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked, final server frame."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        return head + bytes([n]) + payload
    if n < 65536:
        return head + bytes([126]) + n.to_bytes(2, "big") + payload
    return head + bytes([127]) + n.to_bytes(8, "big") + payload


def close_frame(code: int) -> bytes:
    return encode_frame(code.to_bytes(2, "big"), opcode=0x8)


@contextmanager
def raw_ws_server(stream: bytes) -> Iterator[str]:
    """Accept one client, answer its handshake, write ``stream``, keep reading until it leaves."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
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
            try:
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
