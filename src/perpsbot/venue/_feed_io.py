"""One connection of a :class:`~perpsbot.venue.feed.WebSocketFeed`: subscribe, then receive
until it ends.

The connection's half of the feed, kept apart so each module reads as one concept:
``feed.py`` runs the thread, its reconnects and its public face; this module one
connection's subscribes, its frames and their sequence numbers, the status events and
counters they produce, and why the connection ended.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import websocket

from perpsbot.clock import Clock
from perpsbot.errors import FrameDecodeError
from perpsbot.messages import (
    FeedErrorReceived,
    FeedGapDetected,
    FeedStale,
    FeedStatus,
    FeedSubscribed,
    Stamper,
)
from perpsbot.venue._linger import read_ahead, trickle_lingerer
from perpsbot.venue._wsframes import (
    OPCODE_CLOSE,
    FrameReader,
    WebSocketProtocolError,
    reply_close,
)
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.codec import decode_frame, encode_subscribe
from perpsbot.venue.frames import ErrorFrame, Frame, SkippedFrame

_log = logging.getLogger("perpsbot.venue.feed")

# 32 KiB a read: at most ~80 level2 frames (well under a millisecond of work) between two
# flushes of the consumer; a 256 KiB read held a burst's marks back for ~5 ms.
_READ_BYTES = 32 * 1024


_SEQUENCE_KEY = b'"sequence_num":'
#: Where an envelope's sequence number is looked for: the channel, ``client_id`` and a
#: timestamp come before it.
_SEQUENCE_WITHIN = 160


def skip_prefix(channel: str) -> bytes:
    """How a frame of ``channel`` begins on the wire (Advanced Trade's envelope starts with
    its channel): a frame is skipped undecoded on this prefix alone."""
    return b'{"channel":"' + channel.encode() + b'",'


def skipped_frame(data: bytes) -> SkippedFrame | None:
    """``data``, which begins with a :func:`skip_prefix`, as a ``SkippedFrame``: only its
    channel and ``sequence_num`` are read. None if that number is not where Advanced Trade
    puts it (then the frame is decoded, which explains what is wrong with it)."""
    at = data.find(_SEQUENCE_KEY, 0, _SEQUENCE_WITHIN)
    if at < 0:
        return None
    start = at + len(_SEQUENCE_KEY)
    end = data.find(b",", start, start + 24)
    digits = data[start:end]
    if end < 0 or not digits.isdigit():
        return None
    return SkippedFrame(data[12 : data.index(b'"', 12)].decode(), int(digits))


def log_now(count: int) -> bool:
    """Log the 1st, 2nd, 4th, 8th... occurrence, so a flood cannot flood the log."""
    return count & (count - 1) == 0


class StopRequestedError(Exception):
    """Raised out of a read when the feed was asked to stop."""


class ConnectionEndedError(Exception):
    """Why a connection ended, and the server's close code if it sent one."""

    def __init__(self, reason: str, close_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = close_code


class FeedConnection:
    """The per-connection methods of ``WebSocketFeed``, which sets every attribute below."""

    name: str
    channels: tuple[str, ...]
    product_ids: tuple[str, ...]
    _on_frame: Callable[[Frame], None]
    _on_status: Callable[[FeedStatus], None]
    _on_wait: Callable[[], None] | None
    _on_raw: Callable[[bytes, int], None] | None
    _clock: Clock
    _stamper: Stamper
    _signer: JwtSigner | None
    _stop: threading.Event
    _stopping: bool
    _stale_after_s: float
    _max_message_bytes: int
    _linger_s: float
    _frames: int
    _decode_errors: int
    _callback_errors: int
    _gaps: int
    _out_of_order: int
    _stale: int
    _protocol_errors: int
    _skipped: int
    _skip_prefixes: tuple[bytes, ...]
    _paused: frozenset[str]

    def _emit(self, kind: type[FeedStatus], **fields: Any) -> None:
        message_id, ts_created_ns = self._stamper.stamp()
        event = kind(message_id=message_id, ts_created_ns=ts_created_ns, feed=self.name, **fields)
        try:
            self._on_status(event)
        except Exception:  # a failing consumer must not kill the feed; logged and counted
            self._callback_errors += 1
            _log.exception("feed %s: on_status failed for %r", self.name, event)

    def _before_read(self) -> None:
        """Before each socket read: the consumer's flush, then the stop check (a stop also
        aborts the socket, which wakes a blocked read)."""
        on_wait = self._on_wait
        try:
            if on_wait is not None:
                on_wait()
        except Exception:  # a failing consumer must not kill the feed; logged and counted
            self._callback_errors += 1
            if log_now(self._callback_errors):
                _log.exception("feed %s: on_wait failed (#%d)", self.name, self._callback_errors)
        if self._stop.is_set():
            raise StopRequestedError

    def _send_subscribe(self, ws: websocket.WebSocket, channel: str, subscribe: bool) -> None:
        products = () if channel == "heartbeats" else self.product_ids
        token = self._signer.ws_token() if self._signer is not None else None
        ws.send(encode_subscribe(channel, products, jwt=token, subscribe=subscribe))

    def _subscribe(self, ws: websocket.WebSocket) -> None:
        for channel in ("heartbeats", *self.channels):
            self._send_subscribe(ws, channel, True)
        self._emit(
            FeedSubscribed, channels=("heartbeats", *self.channels), product_ids=self.product_ids
        )

    def _on_gap(self, ws: websocket.WebSocket, expected: int, found: int) -> None:
        self._gaps += 1
        self._emit(FeedGapDetected, expected=expected, found=found)
        if "level2" in self.channels:
            self._send_subscribe(ws, "level2", False)
            self._send_subscribe(ws, "level2", True)

    def _sync_paused(self, ws: websocket.WebSocket, on_wire: frozenset[str]) -> frozenset[str]:
        """Unsubscribe the channels the consumer paused since ``on_wire`` (those paused on
        this connection), subscribe again those it resumed; returns what is paused now."""
        paused = self._paused
        for channel in self.channels:
            if (channel in paused) != (channel in on_wire):
                self._send_subscribe(ws, channel, channel not in paused)
        return paused

    def _receive(self, ws: websocket.WebSocket) -> None:
        # The hot path: locals only, no logging, no allocation beyond the decoded frame.
        read = FrameReader(
            ws,
            read_bytes=_READ_BYTES,
            on_wait=self._before_read,
            linger=trickle_lingerer(ws.sock, self._linger_s, self._stop, _READ_BYTES),
            read_ahead=read_ahead(ws.sock),
            max_message_bytes=self._max_message_bytes,
        ).read
        decode = decode_frame
        on_frame = self._on_frame
        on_raw = self._on_raw
        time_ns = self._clock.time_ns
        stop_is_set = self._stop.is_set
        expected = -1  # unknown until the first numbered frame of this connection
        paused: frozenset[str] = frozenset()  # every channel is subscribed at first
        while not self._stopping:  # a plain attribute: read per frame, cheaper than the Event
            try:
                opcode, data = read()
            except StopRequestedError:
                return
            except TimeoutError:
                self._stale += 1
                self._emit(FeedStale, silent_s=self._stale_after_s)
                raise ConnectionEndedError(f"stale: nothing for {self._stale_after_s}s") from None
            except WebSocketProtocolError as exc:  # fail the connection, as RFC 6455 says
                self._protocol_errors += 1
                _log.warning("feed %s: protocol error: %s", self.name, exc)
                reply_close(ws, 1002)
                raise ConnectionEndedError(f"protocol error: {exc}") from None
            except OSError as exc:  # reset, closed without a close frame
                if stop_is_set():
                    return
                raise ConnectionEndedError(f"dropped: {type(exc).__name__}: {exc}") from None
            if opcode == OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                reply_close(ws)
                raise ConnectionEndedError(f"closed by server with code {code}", code)
            if on_raw is not None:
                try:
                    on_raw(data, time_ns())
                except Exception:  # a failing recorder must not kill the feed; logged, counted
                    self._callback_errors += 1
                    if log_now(self._callback_errors):
                        _log.exception("feed %s: on_raw failed", self.name)
            skip = self._skip_prefixes  # set by the consumer, from its callbacks mostly
            frame: Frame | None = skipped_frame(data) if skip and data.startswith(skip) else None
            if frame is not None:
                self._skipped += 1
            else:
                try:
                    frame = decode(data)
                except FrameDecodeError as exc:
                    self._decode_errors += 1
                    if log_now(self._decode_errors):
                        _log.warning(
                            "feed %s: dropped malformed frame #%d: %s",
                            self.name, self._decode_errors, exc,
                        )  # fmt: skip
                    continue
            seq = frame.sequence_num
            if seq >= 0:
                if seq == expected or expected < 0:
                    expected = seq + 1
                elif seq > expected:
                    self._on_gap(ws, expected, seq)
                    expected = seq + 1
                else:
                    self._out_of_order += 1
                    continue
            self._frames += 1
            try:
                on_frame(frame)
            except Exception:  # a failing consumer must not kill the feed; logged and counted
                self._callback_errors += 1
                if log_now(self._callback_errors):
                    _log.exception(
                        "feed %s: on_frame failed (#%d)", self.name, self._callback_errors
                    )
            if self._paused is not paused:  # the consumer paused or resumed channels
                paused = self._sync_paused(ws, paused)
            if type(frame) is ErrorFrame:
                self._emit(FeedErrorReceived, message=frame.message)
                raise ConnectionEndedError(f"venue error: {frame.message}")
