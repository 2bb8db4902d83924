"""The plain-pykka contenders, all on stock ``pykka.ThreadingActor`` mailboxes:

- built the way perpsbot is, lean: its own receive loop keeps the books on the feed thread
  and tells one message per socket read (no gap detection, no book-readiness gate);
- built the way perpsbot is, with perpsbot's own ``WebSocketFeed`` and ``MarkTranslator`` on
  the feed thread: only the actor runtime behind them differs from the perpsbot contender;
- naive: a proxy hop per frame into a streamer actor, another per mark.

All decode with ``decode_frame`` and keep books with ``OrderBook``.
"""

from __future__ import annotations

import threading
from collections import deque
from decimal import Decimal
from typing import Any

import attrs
import pykka

from benchmarks._pipeline_common import (
    CLOCK,
    READ_BYTES,
    WINDOW,
    Recorder,
    receive,
    start_thread,
)
from benchmarks._source import PRODUCTS

# The translator is internal to the streamer actor; the benchmark drives it directly.
from perpsbot.actors.market_data._mark_translator import MarkTranslator
from perpsbot.ids import ProcessIds
from perpsbot.messages import PendingMark
from perpsbot.runtime import CoalescedReady, Coalescer
from perpsbot.venue import VenueRateLimiter, WebSocketFeed
from perpsbot.venue.book import OrderBook, mid_of
from perpsbot.venue.frames import Frame, Level2Frame

MAX_BATCH = 128  # level2 frames between flushes at most, as perpsbot's translator


def _ticker(interval_s: float, tick: Any, stop: threading.Event) -> threading.Thread:
    """pykka has no timers: a thread tells the sample message each cycle (perpsbot's
    scheduler thread does the same for its timers)."""

    def run() -> None:
        while not stop.wait(interval_s):
            tick()

    return start_thread(run, "pykka-sampler")


# -- pykka built on perpsbot's design --------------------------------------------------------


@attrs.frozen
class MarksRead:
    """The marks of one socket read: ``(symbol, mark, ts_event_ns)`` per changed book."""

    marks: tuple[tuple[str, Decimal, int], ...]


@attrs.frozen
class SampleMarks:
    pass


@attrs.frozen
class MarksSampled:
    samples: tuple[tuple[str, tuple[Decimal, ...], int], ...]


class _Consumer(pykka.ThreadingActor):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._recorder = recorder

    def on_receive(self, message: Any) -> None:
        if type(message) is MarksSampled:
            for _symbol, _window, ts_event_ns in message.samples:
                self._recorder.sampled(ts_event_ns)


class _MarkWindow(pykka.ThreadingActor):
    """Latest mark per symbol from each read's batch (a ``MarksRead``, or the translator's
    ``CoalescedReady``); a window per symbol each cycle. Feed status events are ignored."""

    def __init__(
        self,
        recorder: Recorder,
        consumer: pykka.ActorRef[Any],
        feed_marks: Coalescer[str, PendingMark] | None = None,
    ) -> None:
        super().__init__()
        self._recorder = recorder
        self._consumer = consumer
        self._feed_marks = feed_marks
        self._latest: dict[str, tuple[Decimal, int]] = {}
        self._windows = {p: deque[Decimal](maxlen=WINDOW) for p in PRODUCTS}

    def on_receive(self, message: Any) -> None:
        if type(message) is MarksRead:
            mark = self._recorder.mark
            for symbol, value, ts_event_ns in message.marks:
                self._latest[symbol] = (value, ts_event_ns)
                mark(value, ts_event_ns)
        elif type(message) is CoalescedReady and self._feed_marks is not None:
            mark = self._recorder.mark
            for symbol, pending in self._feed_marks.take().items():
                self._latest[symbol] = (pending.mark, pending.ts_event_ns)
                mark(pending.mark, pending.ts_event_ns)
        elif type(message) is SampleMarks:
            samples = []
            for symbol, (value, ts_event_ns) in self._latest.items():
                window = self._windows[symbol]
                window.append(value)
                samples.append((symbol, tuple(window), ts_event_ns))
            self._consumer.tell(MarksSampled(tuple(samples)))


class _FeedThreadBooks:
    """perpsbot's translator, reduced to level2: books on the feed thread, and per socket
    read (or every ``MAX_BATCH`` frames) one message with a mark per changed book."""

    def __init__(self, marks: pykka.ActorRef[Any]) -> None:
        self._tell = marks.tell
        self._books = {p: OrderBook(p) for p in PRODUCTS}
        self._dirty: dict[OrderBook, Level2Frame] = {}
        self._batched = 0

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is not Level2Frame:
            return
        books = self._books
        for event in frame.events:
            book = books[event.product_id]
            book.apply(event)
            self._dirty[book] = frame
        self._batched += 1
        if self._batched >= MAX_BATCH:
            self.flush()

    def flush(self) -> None:
        self._batched = 0
        if not self._dirty:
            return
        marks = []
        for book, frame in self._dirty.items():
            top = book.top()
            if top is not None:
                marks.append((book.product_id, mid_of(*top), frame.ts_event_ns))
        self._dirty.clear()
        if marks:
            self._tell(MarksRead(tuple(marks)))


def run_pykka(url: str, recorder: Recorder, interval_s: float, timeout_s: float) -> None:
    """Feed thread (books, one tell per read) -> mark window -> consumer, all ``tell``."""
    consumer = _Consumer.start(recorder)
    marks = _MarkWindow.start(recorder, consumer)
    books = _FeedThreadBooks(marks)
    stop = threading.Event()
    ticker = _ticker(interval_s, lambda: marks.tell(SampleMarks()), stop)
    try:
        receive(url, books.on_frame, books.flush, read_bytes=READ_BYTES)
        recorder.wait(timeout_s)
    finally:
        stop.set()
        ticker.join(5)
        for ref in (marks, consumer):
            ref.stop(timeout=30)


def run_pykka_feed(url: str, recorder: Recorder, interval_s: float, timeout_s: float) -> None:
    """perpsbot's ``WebSocketFeed`` and ``MarkTranslator`` -> a stock pykka mark window ->
    consumer; the translator tells the window through its coalescer, as in perpsbot."""
    consumer = _Consumer.start(recorder)
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")
    marks = _MarkWindow.start(recorder, consumer, feed_marks)
    feed_marks.bind(marks)  # a pykka ref tells like an address
    translator = MarkTranslator(
        symbols=PRODUCTS,
        marks=feed_marks,
        streamer=marks,  # statuses and reports: the window ignores them
        clock=CLOCK,
        ids=ProcessIds(),
        report_every_s=15.0 / 4,
    )
    feed = WebSocketFeed(
        url=url, channels=["level2"], product_ids=PRODUCTS, on_frame=translator.on_frame,
        on_status=translator.on_status, on_wait=translator.flush,
        limiter=VenueRateLimiter(clock=CLOCK), clock=CLOCK, name="pykka-feed",
        stale_after_s=15.0,
    )  # fmt: skip
    stop = threading.Event()
    ticker = _ticker(interval_s, lambda: marks.tell(SampleMarks()), stop)
    feed.start()
    try:
        recorder.wait(timeout_s)
    finally:
        feed.stop(timeout_s=10)
        stop.set()
        ticker.join(5)
        for ref in (marks, consumer):
            ref.stop(timeout=30)


# -- pykka, naive: a proxy hop per frame, another per mark -----------------------------------


class _NaiveConsumer(pykka.ThreadingActor):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._recorder = recorder

    def on_sample(self, samples: tuple[tuple[str, tuple[Decimal, ...], int], ...]) -> None:
        for _symbol, _window, ts_event_ns in samples:
            self._recorder.sampled(ts_event_ns)


class _NaiveMarks(pykka.ThreadingActor):
    def __init__(self, recorder: Recorder, consumer: Any) -> None:
        super().__init__()
        self._recorder = recorder
        self._consumer = consumer
        self._latest: dict[str, tuple[Decimal, int]] = {}
        self._windows = {p: list[Decimal]() for p in PRODUCTS}

    def on_mark(self, symbol: str, mark: Decimal, ts_event_ns: int) -> None:
        self._latest[symbol] = (mark, ts_event_ns)
        self._recorder.mark(mark, ts_event_ns)

    def sample(self) -> None:
        samples = []
        for symbol, (mark, ts_event_ns) in self._latest.items():
            window = self._windows[symbol]
            window.append(mark)
            del window[:-WINDOW]
            samples.append((symbol, tuple(window), ts_event_ns))
        self._consumer.on_sample.defer(tuple(samples))


class _NaiveStreamer(pykka.ThreadingActor):
    def __init__(self, marks: Any) -> None:
        super().__init__()
        self._on_mark = marks.on_mark
        self._books = {p: OrderBook(p) for p in PRODUCTS}

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is not Level2Frame:
            return
        for event in frame.events:
            book = self._books[event.product_id]
            book.apply(event)
            mid = book.mid()
            if mid is not None:
                self._on_mark.defer(event.product_id, mid, frame.ts_event_ns)


def run_pykka_naive(url: str, recorder: Recorder, interval_s: float, timeout_s: float) -> None:
    """Receive thread -> ``streamer.on_frame.defer`` -> ``marks.on_mark.defer``; the sampler
    defers ``marks.sample`` each cycle, which defers ``consumer.on_sample``."""
    consumer = _NaiveConsumer.start(recorder)
    marks = _NaiveMarks.start(recorder, consumer.proxy())
    streamer = _NaiveStreamer.start(marks.proxy())
    stop = threading.Event()
    ticker = _ticker(interval_s, marks.proxy().sample.defer, stop)
    try:
        receive(url, streamer.proxy().on_frame.defer)
        recorder.wait(timeout_s)
    finally:
        stop.set()
        ticker.join(5)
        for ref in (streamer, marks, consumer):
            ref.stop(timeout=30)
