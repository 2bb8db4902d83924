"""Feed recordings: what the market-data feed delivered, with receive times, in a
versioned, compressed file.

The file is a gzip stream (the standard library's: no extra dependency, and every tool
reads it) of JSON lines. The first line is the header, ``{"format": "perpsbot-feed-recording",
"version": 1, "symbols": [...], "started_ns": ...}``; each next line is one record, in the
order received: ``{"t": RECEIVE_NS, "k": "frame", "d": RAW_TEXT}`` for a websocket message
exactly as it arrived, ``{"t": RECEIVE_NS, "k": "quote", "d": {...}}`` for a REST quote, and
last (from version 2) ``{"t": ENDED_NS, "k": "end", "d": null}``: when the recording stopped,
so a replay runs the recorded session's timers after its last frame too (a live run decides
on the frames it has while no new one comes). A replay reads it front to back in one pass
(:func:`read_recording`) and decodes the frames with the feed's own decoder, so it exercises
the same code as the live feed. Version 1 files (no end record) are still read.

Writing happens on the recorder's own thread: the feed thread only enqueues the bytes and
the time, so a recorder never slows the feed.
"""

from __future__ import annotations

import gzip
import queue
import threading
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import msgspec

from perpsbot.errors import RecordingFormatError

__all__ = [
    "RECORDING_FORMAT",
    "RECORDING_VERSION",
    "RecordedEnd",
    "RecordedFrame",
    "RecordedQuote",
    "RecordingHeader",
    "RecordingWriter",
    "read_recording",
    "read_recording_header",
]

RECORDING_FORMAT = "perpsbot-feed-recording"
#: The version this perpsbot writes; it reads this one and the ones before it, and refuses
#: a file of another.
RECORDING_VERSION = 2
_READABLE_VERSIONS = (1, 2)


@attrs.frozen(kw_only=True)
class RecordingHeader:
    """What a recording says of itself: its version, the symbols recorded and when the
    recording started (Unix ns, on the clock of the receive times)."""

    version: int
    symbols: tuple[str, ...]
    started_ns: int


@attrs.frozen(kw_only=True)
class RecordedFrame:
    """A websocket message as the feed received it."""

    received_ns: int
    raw: bytes


@attrs.frozen(kw_only=True)
class RecordedQuote:
    """A REST best bid and ask of one product."""

    received_ns: int
    product_id: str
    bid: Decimal | None
    ask: Decimal | None


@attrs.frozen(kw_only=True)
class RecordedEnd:
    """When the recording stopped (the last record; files of version 1 have none)."""

    ended_ns: int


Record = RecordedFrame | RecordedQuote | RecordedEnd

_STOP = object()


class RecordingWriter:
    """Writes a recording to ``path`` (replacing it) on a thread of its own; :meth:`close`
    flushes and ends the file. ``frame`` and ``quote`` are safe from any thread."""

    def __init__(self, path: Path, *, symbols: tuple[str, ...], started_ns: int) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._file = gzip.GzipFile(path, "wb", compresslevel=6)
        header = {
            "format": RECORDING_FORMAT,
            "version": RECORDING_VERSION,
            "symbols": list(symbols),
            "started_ns": started_ns,
        }
        self._file.write(msgspec.json.encode(header) + b"\n")
        self.frames = self.quotes = 0
        self._thread = threading.Thread(target=self._write, name="recorder", daemon=True)
        self._thread.start()

    def frame(self, raw: bytes, received_ns: int) -> None:
        """Record one websocket message (the feed's ``on_raw``)."""
        self._queue.put((received_ns, "frame", raw.decode("utf-8", "replace")))

    def quote(
        self, product_id: str, bid: Decimal | None, ask: Decimal | None, received_ns: int
    ) -> None:
        """Record one REST quote."""
        body = {
            "product_id": product_id,
            "bid": None if bid is None else str(bid),
            "ask": None if ask is None else str(ask),
        }
        self._queue.put((received_ns, "quote", body))

    def close(self, timeout_s: float = 10.0, *, ended_ns: int | None = None) -> None:
        """Write what is queued and end the file; ``ended_ns`` (Unix ns, on the clock the
        receive times come from) is when the recording stopped, its last record."""
        if ended_ns is not None:
            self._queue.put((ended_ns, "end", None))
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        self._file.close()

    def _write(self) -> None:
        write = self._file.write
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            received_ns, kind, data = item
            write(msgspec.json.encode({"t": received_ns, "k": kind, "d": data}) + b"\n")
            if kind == "frame":
                self.frames += 1
            elif kind == "quote":
                self.quotes += 1


def read_recording(path: Path) -> Iterator[Record]:
    """The records of the recording at ``path``, in the order they were received.

    Raises:
        RecordingFormatError: the file is not a recording, is of another version, or ends
            cut short (the records before the damage are yielded first).
        FileNotFoundError: there is no file at ``path``.
    """
    with gzip.open(path, "rb") as file:
        try:
            header = _header(path, file.readline())
            if header.get("version") not in _READABLE_VERSIONS:
                raise RecordingFormatError(
                    f"{path} must be a feed recording of version"
                    f" {' or '.join(map(str, _READABLE_VERSIONS))}, is of version"
                    f" {header.get('version')!r}: record it again with this perpsbot"
                )
            for number, line in enumerate(file, start=2):
                yield _record(path, number, line)
        except (OSError, EOFError, zlib.error) as error:
            raise RecordingFormatError(
                f"{path} must be a whole gzip-compressed feed recording, is not: {error}"
            ) from None


def read_recording_header(path: Path) -> RecordingHeader:
    """The header of the recording at ``path``.

    Raises:
        RecordingFormatError: the file does not start as a recording's does.
        FileNotFoundError: there is no file at ``path``.
    """
    with gzip.open(path, "rb") as file:
        try:
            header = _header(path, file.readline())
        except (OSError, EOFError, zlib.error) as error:
            raise RecordingFormatError(
                f"{path} must be a gzip-compressed feed recording, is not: {error}"
            ) from None
    version, symbols, started_ns = (header.get(k) for k in ("version", "symbols", "started_ns"))
    if (
        type(version) is not int
        or not isinstance(symbols, list)
        or not all(isinstance(s, str) for s in symbols)
        or type(started_ns) is not int
    ):
        raise RecordingFormatError(
            f"{path} must have a header with an int version, a list of symbols and an int"
            f" started_ns, has {header!r}"
        )
    return RecordingHeader(version=version, symbols=tuple(symbols), started_ns=started_ns)


def _header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError):  # too deep: refused too
        header = None
    if not isinstance(header, dict) or header.get("format") != RECORDING_FORMAT:
        raise RecordingFormatError(
            f"{path} must start with a {RECORDING_FORMAT} header, starts with {line[:60]!r}"
        )
    return header


def _record(path: Path, number: int, line: bytes) -> Record:
    try:
        body = msgspec.json.decode(line)
        received_ns, kind, data = body["t"], body["k"], body["d"]
        if kind == "frame":
            return RecordedFrame(received_ns=received_ns, raw=data.encode())
        if kind == "quote":
            bid, ask = data["bid"], data["ask"]
            return RecordedQuote(
                received_ns=received_ns,
                product_id=data["product_id"],
                bid=None if bid is None else Decimal(bid),
                ask=None if ask is None else Decimal(ask),
            )
        if kind == "end" and type(received_ns) is int:
            return RecordedEnd(ended_ns=received_ns)
    except (msgspec.DecodeError, RecursionError, KeyError, TypeError, AttributeError):
        raise _bad_record(path, number, line) from None
    raise _bad_record(path, number, line)


def _bad_record(path: Path, number: int, line: bytes) -> RecordingFormatError:
    return RecordingFormatError(
        f"{path} line {number} must be a frame, quote or end record, was {line[:80]!r}"
    )
