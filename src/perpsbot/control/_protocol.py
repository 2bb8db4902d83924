"""The shell's wire protocol: one JSON object per line, each way, over the Unix socket.

The daemon speaks first: ``{"hello": {...}}`` or ``{"refused": "why"}``. Then each request
gets one reply, which repeats the request's ``"id"`` if it had one (a client interrupted
while it waited tells the late answer from the next one's by it):

- ``{"op": "run", "source": "..."}`` -> ``{"output": "...", "failed": false}``
- ``{"op": "complete", "text": "sta"}`` -> ``{"matches": ["state(", "status("]}``
- ``{"op": "status"}`` -> ``{"status": {...}, "text": "..."}``
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from perpsbot.errors import PerpsbotError

__all__ = ["MAX_LINE_BYTES", "ShellProtocolError", "Stream", "receive", "send"]

MAX_LINE_BYTES = 16 * 1024 * 1024


class Stream(Protocol):
    """What the protocol needs of a socket file (``socket.makefile("rwb")``)."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class ShellProtocolError(PerpsbotError, ConnectionError):
    """The other end of a shell connection sent something that is not a protocol line."""


def send(stream: Stream, message: dict[str, Any]) -> None:
    """Write ``message`` as one line and flush it."""
    stream.write(msgspec.json.encode(message, enc_hook=str) + b"\n")
    stream.flush()


def receive(stream: Stream) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream.

    Raises:
        ShellProtocolError: the line is too long or not a JSON object.
    """
    line = stream.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    if len(line) > MAX_LINE_BYTES:
        raise ShellProtocolError(f"a shell message must be at most {MAX_LINE_BYTES} bytes")
    try:
        message = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError) as error:  # too deep: refused too
        raise ShellProtocolError(f"a shell message must be JSON, was {line[:80]!r}") from error
    if not isinstance(message, dict):
        raise ShellProtocolError(f"a shell message must be a JSON object, was {line[:80]!r}")
    return message
