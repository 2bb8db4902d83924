"""Contenders without actors: the raw ceiling, the one-thread work floor, the legacy shape."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from benchmarks._pipeline_common import (
    CLOCK,
    READ_BYTES,
    WINDOW,
    Recorder,
    connect,
    receive,
    start_thread,
    time_ns,
    tuned,
)
from benchmarks._report import cpu_s
from benchmarks._source import PRODUCTS
from perpsbot.venue._wsframes import OPCODE_CLOSE, FrameReader
from perpsbot.venue.book import OrderBook, mid_of
from perpsbot.venue.codec import decode_frame
from perpsbot.venue.frames import Frame, Level2Frame
from perpsbot.venue.timestamps import parse_rfc3339_ns


def decoders() -> dict[str, Callable[[bytes], Any]]:
    """JSON decoders to compare: to generic objects, and perpsbot's codec (msgspec decoding
    ``l2_data`` straight into typed, validated structs; other frames to generic objects)."""
    return {
        "none": bytes,
        "json": json.loads,
        "msgspec": msgspec.json.Decoder().decode,
        "codec": decode_frame,
    }


def _event_ns(message: Any) -> int:
    if type(message) is dict:
        return parse_rfc3339_ns(message["timestamp"])
    return message.ts_event_ns  # type: ignore[no-any-return]


# -- the raw ceiling ------------------------------------------------------------------------


def ceiling(url: str, loop: str, decoder: str, recorder: Recorder | None = None) -> float:
    """Receive and JSON-decode every frame, nothing else; frames/s until the close frame.

    ``loop`` is ``recv`` (websocket-client defaults), ``recv_data`` (its lower-level call,
    tuned flags) or ``reader`` (perpsbot's FrameReader on the tuned socket).
    """
    decode = decoders()[decoder]
    ws = connect(url) if loop == "recv" else tuned(url)
    try:
        if loop == "recv":
            recv = ws.recv

            def read() -> tuple[int, bytes]:
                data = recv()
                return (1, data) if data else (OPCODE_CLOSE, b"")
        elif loop == "recv_data":
            recv_data = ws.recv_data

            def read() -> tuple[int, bytes]:
                return recv_data()  # type: ignore[no-any-return]
        else:
            read = FrameReader(ws).read
        opcode, data = read()
        first_ns = parse_rfc3339_ns(msgspec.json.decode(data)["timestamp"])
        frames = 1
        if recorder is None:
            while True:
                opcode, data = read()
                if opcode == OPCODE_CLOSE:
                    break
                decode(data)
                frames += 1
        else:  # paced: the latency of a decoded frame (a floor for frame -> mark)
            recorder.first_cpu_s = cpu_s()
            while True:
                opcode, data = read()
                if opcode == OPCODE_CLOSE:
                    break
                message = decode(data)
                recorder.mark_us.append((time_ns() - _event_ns(message)) / 1e3)
                frames += 1
            recorder.end_cpu_s = cpu_s()
        return frames / ((CLOCK.time_ns() - first_ns) / 1e9)
    finally:
        ws.abort()


# -- the work floor: the same decode and books, no concurrency at all ----------------------


def run_floor(url: str, recorder: Recorder) -> None:
    """perpsbot's feed-thread work with no concurrency at all, on one thread: receive,
    ``decode_frame``, ``OrderBook.apply`` per frame, and a mid per changed book per socket
    read (what ``MarkTranslator`` does); the mark goes straight to the recorder."""
    books = {p: OrderBook(p) for p in PRODUCTS}
    dirty: dict[OrderBook, Level2Frame] = {}
    mark = recorder.mark

    def on_frame(frame: Frame) -> None:
        if type(frame) is Level2Frame:
            for event in frame.events:
                book = books[event.product_id]
                book.apply(event)
                dirty[book] = frame

    def flush() -> None:
        for book, frame in dirty.items():
            top = book.top()
            if top is not None:
                mark(mid_of(*top), frame.ts_event_ns)
        dirty.clear()

    receive(url, on_frame, flush, read_bytes=READ_BYTES)


# -- legacy shape: perpsbot's reader, codec and book behind one RLock -----------------------


class LegacyBot:
    """The legacy shape, not the original bot: state in shared dicts behind one ``RLock``
    and direct calls, as the original PerpsBot kept its mark windows, but built from
    perpsbot's own ``FrameReader``, ``decode_frame`` and ``OrderBook``. It measures a lock
    against actors with everything else equal.

    The websocket thread decodes, applies the books and appends every mark to
    ``mark_windows`` under the lock (``_update_mark_window``: append, rebind when too long);
    a sampler thread appends each symbol's latest mark under the same lock every cycle and
    hands the windows to the consumer (the strategy) by a direct call.
    """

    def __init__(self, recorder: Recorder, interval_s: float) -> None:
        self._lock = threading.RLock()
        self._recorder = recorder
        self._interval_s = interval_s
        self.books = {p: OrderBook(p) for p in PRODUCTS}
        self.mark_windows: dict[str, list[Decimal]] = {}
        self.latest: dict[str, tuple[Decimal, int]] = {}
        self._stop = threading.Event()

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is not Level2Frame:
            return
        with self._lock:
            for event in frame.events:
                book = self.books[event.product_id]
                book.apply(event)
                mid = book.mid()
                if mid is not None:
                    self._update_mark_window(event.product_id, mid, frame.ts_event_ns)

    def _update_mark_window(self, symbol: str, mark: Decimal, ts_event_ns: int) -> None:
        with self._lock:
            window = self.mark_windows.setdefault(symbol, [])
            window.append(mark)
            if len(window) > WINDOW:
                self.mark_windows[symbol] = window[-WINDOW:]
            self.latest[symbol] = (mark, ts_event_ns)
            self._recorder.mark(mark, ts_event_ns)

    def _sample_loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                sample = {}
                for symbol, (mark, ts_event_ns) in self.latest.items():
                    window = self.mark_windows.setdefault(symbol, [])
                    window.append(mark)
                    if len(window) > WINDOW:
                        self.mark_windows[symbol] = window[-WINDOW:]
                    sample[symbol] = (tuple(self.mark_windows[symbol]), ts_event_ns)
            for _window, ts_event_ns in sample.values():  # the strategy reads its sample
                self._recorder.sampled(ts_event_ns)

    def run(self, url: str, timeout_s: float) -> None:
        sampler = start_thread(self._sample_loop, "legacy-sampler")
        try:
            receive(url, self.on_frame)
            self._recorder.wait(timeout_s)
        finally:
            self._stop.set()
            sampler.join(5)
