"""Turns decoded feed frames into marks, on the feed thread.

The translator is the websocket thread's half of the streamer: it keeps the local level2
books (data that only this thread touches, one per connection), computes each symbol's mark
and tells ``MarkObserved`` straight to the mark window, whose mailbox conflates per symbol.
Nothing on this path queues without bound, and no frame waits behind another actor's work.

The mark is the book's mid when the book is ready, else the ticker's mid (or price), else the
last trade price. A mark is offered when it changes, or at least every ``refresh_s`` while
data for the symbol keeps arriving, so a quiet market stays fresh while a silent one goes
stale.

The ticker (and market trades) give marks only while a book is not usable: while every book
is ready, the translator asks the feed to forward their frames undecoded
(``WebSocketFeed.skip_undecoded``), as ``SkippedFrame``: they still count as market data
for silence, at a fraction of a decoded frame's cost. A gap or a lost connection, which
makes the books unusable, has every frame decoded again from the next one on.

Work is batched per socket read. A frame only updates its book and notes the symbol; the
feed calls :meth:`MarkTranslator.flush` before it reads the socket again, and only then are
mids computed (exactly, as decimals) and offered through a
:class:`~perpsbot.runtime.Coalescer`. A burst that arrives in one read costs one mid and one
offer per symbol, and the mark window builds one ``MarkObserved`` per symbol per wake-up; a
lone frame is flushed before the thread waits, so it is never held back.
Heartbeats alone never refresh a mark. A connection counts as healthy
(``MarketDataResumed``) only from its first market-data frame. The translator tells the
streamer a ``MarketDataReported`` (its counters, the feed's lag and the time of the latest
market data) at most every ``report_every_s`` while data flows, once more at the first read
without market data after it (a heartbeat, a ping), and with every connection event: the
streamer judges silence from these on its own timer, and never reads this object's fields.
The lag is sampled at most every 10 ms, so a timestamp is parsed for it that rarely.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection
from decimal import Decimal

import attrs

from perpsbot.actors.market_data._feed_lag import LagMeter
from perpsbot.clock import Clock
from perpsbot.errors import FrameDecodeError
from perpsbot.ids import IdSource
from perpsbot.messages import (
    FeedConnected,
    FeedDisconnected,
    FeedGapDetected,
    FeedStats,
    FeedStatus,
    MarketDataReported,
    MarketDataResumed,
    MarkSource,
    PendingMark,
    Stamper,
)
from perpsbot.runtime import ActorAddress, Coalescer
from perpsbot.venue import (
    Frame,
    Level2Frame,
    MarketTradesFrame,
    OrderBook,
    SkippedFrame,
    TickerFrame,
    mid_of,
)

__all__ = ["MarkTranslator"]

_TWO = Decimal(2)
_log = logging.getLogger("perpsbot.actors.streamer")
_MAX_BATCH = 128  # level2 frames between flushes, at most (~1 ms of a full-speed burst)
#: Feed lag is sampled at most this often: a level2 timestamp costs ~0.5 us to parse, and a
#: trickle flushes for every frame.
_LAG_EVERY_NS = 10_000_000
#: The channels that give no mark while every book is ready.
_UNUSED_WHILE_BOOKS_READY = ("ticker", "market_trades")


@attrs.frozen
class _BoundFeed:
    """The feed a translator serves, as :meth:`MarkTranslator.bind_feed` was given it."""

    stop: Callable[[], object]
    stats: Callable[[], FeedStats]
    skip_undecoded: Callable[[Collection[str]], None] | None


class MarkTranslator:
    """Feed callbacks (``on_frame``, ``on_status``) that produce marks.

    Args:
        symbols: the products to follow.
        marks: where marks are offered (the mark window takes them).
        streamer: where feed status and reports go (the streamer actor).
        clock: for receive times and reports.
        ids: stamps the messages told to the streamer.
        feed: the feed's name, for the messages.
        report_every_s: the longest between two ``MarketDataReported`` while data flows.
        refresh_s: the longest an unchanged mark goes unsent while data arrives.
        owner_alive: False once the streamer incarnation that owns the feed was replaced
            (abandoned as hung, so it never stopped its feed): the translator then goes quiet
            and stops the feed bound with :meth:`bind_feed`. Asked once per socket read.
    """

    def __init__(
        self,
        *,
        symbols: tuple[str, ...],
        marks: Coalescer[str, PendingMark],
        streamer: ActorAddress,
        clock: Clock,
        ids: IdSource,
        feed: str = "market",
        report_every_s: float,
        refresh_s: float = 1.0,
        owner_alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self._symbols = frozenset(symbols)
        self._books = {symbol: OrderBook(symbol) for symbol in symbols}
        self._tickers_seen: set[str] = set()  # this connection has a ticker for them
        self._dirty: dict[OrderBook, Level2Frame] = {}  # books changed since the last flush
        self._pending: dict[str, PendingMark] = {}  # ticker and trade marks since then
        self._sent: dict[str, tuple[object, int]] = {}  # last mark (as compared) and when
        self._marks = marks
        self._streamer: ActorAddress | None = streamer
        self._clock = clock
        self._stamper = Stamper(clock, ids)
        self._feed = feed
        self._report_every_ns = int(report_every_s * 1e9)
        self._reported_ns = 0  # when the last report was told
        self._unreported = False  # market data arrived since the last report
        self._refresh_ns = int(refresh_s * 1e9)
        self._last_data_ns = clock.monotonic_ns()
        self._data_unflushed = False  # market data arrived since the last flush
        self._batch_ns = 0  # when the first frame of the current batch was handled
        self._batched = 0  # level2 frames since the last flush
        self._silent = True
        self._resyncing = False  # a gap made the books unusable; not all ready again yet
        self._all_ready = False  # every book is ready: ticker and trades are not decoded
        self.marks_sent = 0
        self.bad_timestamps = 0
        # Its sampling state too: from 30 attributes on, CPython 3.11 stops sharing this
        # object's dict keys and every attribute gets slower to reach, the level2 hot
        # path's included (measured: +0.2 us a flush).
        self._lag = LagMeter()
        self._owner_alive = owner_alive
        self._bound: _BoundFeed | None = None
        self._orphaned = False

    # -- the feed thread -------------------------------------------------------------------

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is Level2Frame:
            # The hot path, inline: every frame of a burst comes here; nothing but the books.
            if not self._data_unflushed:
                self._data_unflushed = True
                self._batch_ns = self._clock.monotonic_ns()
            books = self._books
            for event in frame.events:
                book = books.get(event.product_id)
                if book is not None and (book.ready or event.type == "snapshot"):
                    book.apply(event)  # updates before the (re)snapshot cannot be applied
                    self._dirty[book] = frame
            if not self._all_ready:
                self._check_ready()
            self._batched += 1
            if self._batched >= _MAX_BATCH:
                self.flush()  # a long read must not hold marks back for milliseconds
        elif type(frame) is SkippedFrame:
            if not self._data_unflushed:  # market data all the same: it opens a batch
                self._data_unflushed = True
                self._batch_ns = self._clock.monotonic_ns()
        elif type(frame) is TickerFrame:
            self._on_ticker(frame)
        elif type(frame) is MarketTradesFrame:
            self._on_trades(frame)

    def flush(self) -> None:
        """Offer the marks of everything received since the last flush (the feed calls this
        before each socket read)."""
        if self._owner_gone():
            return
        if not self._data_unflushed:
            if self._unreported:  # data paused: the report of its tail goes out now
                self._report(self._clock.monotonic_ns())
            return
        self._data_unflushed = False
        self._unreported = True
        self._batched = 0
        now_ns = self._clock.monotonic_ns()
        received_ns = self._batch_ns or now_ns  # the batch's first frame: lag is not hidden
        self._last_data_ns = now_ns
        resumed = self._silent
        self._silent = False
        lag = self._lag
        if now_ns >= lag.next_sample_ns:
            self._sample_lag(lag, now_ns, received_ns)
        else:  # most batches: nothing sampled, nothing parsed for it
            lag.other_event_ns = 0
        if self._dirty:
            for book, frame in self._dirty.items():
                top = book.top()
                if top is not None and self._due(book.product_id, top, now_ns):
                    event_ns = self._event_ns(frame)
                    self._pending[book.product_id] = PendingMark(
                        mid_of(*top),
                        MarkSource.STREAM,
                        self._clock.time_ns() if event_ns is None else event_ns,
                        received_ns,
                    )
            self._dirty.clear()
        if self._pending:
            offer = self._marks.offer
            for symbol, pending in self._pending.items():
                offer(symbol, pending, now_ns)
            self.marks_sent += len(self._pending)
            self._pending.clear()
        if resumed or now_ns - self._reported_ns >= self._report_every_ns:
            self._report(now_ns)
        if resumed:  # after its report: healthy is never shown with the counters of before
            self._notify(self._resumed())

    def on_status(self, event: FeedStatus) -> None:
        if self._owner_gone():
            return
        if type(event) is FeedGapDetected:
            self.flush()  # frames before the gap were good: their marks still count
            self._invalidate_books()
            self._resyncing = True
        elif type(event) is FeedConnected:
            self._batch_ns = 0
            self._silent = True  # healthy only once market data actually flows
            self._last_data_ns = self._clock.monotonic_ns()
        elif type(event) is FeedDisconnected:
            self.flush()  # what the lost connection delivered still counts
            self._invalidate_books()  # the next connection starts with fresh snapshots
        self._notify(event)
        self._report(self._clock.monotonic_ns())  # counters stay current through an outage

    def detach(self) -> None:
        """Stop forwarding to the streamer (it is replacing or stopping this feed)."""
        self._streamer = None

    def bind_feed(
        self,
        stop: Callable[[], object],
        stats: Callable[[], FeedStats],
        skip_undecoded: Callable[[Collection[str]], None] | None = None,
    ) -> None:
        """The feed this translator serves: how to stop it should its owner be replaced, its
        counters for the reports, and how to tell it which channels to leave undecoded (see
        ``WebSocketFeed.skip_undecoded``; None decodes everything always)."""
        self._bound = _BoundFeed(stop, stats, skip_undecoded)

    # -- per channel -----------------------------------------------------------------------

    def _check_ready(self) -> None:
        if not all(book.ready for book in self._books.values()):
            return
        self._all_ready = True
        self._skip_undecoded(_UNUSED_WHILE_BOOKS_READY)
        if self._resyncing:
            self._resyncing = False
            self._notify(self._resumed())

    def _skip_undecoded(self, channels: tuple[str, ...]) -> None:
        bound = self._bound
        if bound is not None and bound.skip_undecoded is not None:
            bound.skip_undecoded(channels)

    def _on_ticker(self, frame: TickerFrame) -> None:
        now_ns = self._batch_now()
        self._lag.other_event_ns = frame.ts_event_ns
        for ticker in frame.tickers:
            symbol = ticker.product_id
            if symbol not in self._symbols:
                continue
            if ticker.best_bid is not None and ticker.best_ask is not None:
                mark = (ticker.best_bid + ticker.best_ask) / _TWO
            else:
                mark = ticker.price
            self._tickers_seen.add(symbol)
            if not self._books[symbol].ready:
                self._offer(symbol, mark, frame.ts_event_ns, now_ns)

    def _on_trades(self, frame: MarketTradesFrame) -> None:
        now_ns = self._batch_now()
        self._lag.other_event_ns = frame.ts_event_ns
        for event in frame.events:
            for trade in event.trades:
                symbol = trade.product_id
                if (
                    symbol in self._symbols
                    and not self._books[symbol].ready
                    and symbol not in self._tickers_seen  # the ticker's mid comes first
                ):
                    self._offer(symbol, trade.price, trade.ts_trade_ns, now_ns)

    # -- helpers ---------------------------------------------------------------------------

    def _batch_now(self) -> int:
        """Now; market data since the last flush opens a batch, received at its first frame
        (the level2 hot path does the same inline)."""
        now_ns = self._clock.monotonic_ns()
        if not self._data_unflushed:
            self._data_unflushed = True
            self._batch_ns = now_ns
        return now_ns

    def _owner_gone(self) -> bool:
        if self._orphaned:
            return True
        if self._owner_alive():
            return False
        self._orphaned = True
        self._streamer = None
        self._dirty.clear()
        self._pending.clear()
        _log.warning("the streamer owning this feed was replaced; stopping the feed")
        if self._bound is not None:
            self._bound.stop()  # from the feed thread: it ends before its next frame
        return True

    def _due(self, symbol: str, mark: object, now_ns: int) -> bool:
        """Whether ``mark`` goes out: it changed, or the last one is ``refresh_s`` old."""
        sent = self._sent.get(symbol)
        if sent is not None and sent[0] == mark and now_ns - sent[1] < self._refresh_ns:
            return False
        self._sent[symbol] = (mark, now_ns)
        return True

    def _offer(self, symbol: str, mark: Decimal, ts_event_ns: int, now_ns: int) -> None:
        if self._due(symbol, mark, now_ns):
            self._pending[symbol] = PendingMark(mark, MarkSource.STREAM, ts_event_ns, now_ns)

    def _sample_lag(self, lag: LagMeter, now_ns: int, received_ns: int) -> None:
        """Observe this batch's lag: from the timestamps of its latest ticker or trades
        message and of each changed book's latest level2 message to its socket read."""
        lag.next_sample_ns = now_ns + _LAG_EVERY_NS
        wall_ns = self._clock.time_ns() - (now_ns - received_ns)  # the read, on the wall clock
        if lag.other_event_ns:
            lag.observe(wall_ns - lag.other_event_ns)
            lag.other_event_ns = 0
        for frame in self._dirty.values():
            # A bad timestamp gives no sample; it is counted and logged with the frame's mark.
            with contextlib.suppress(FrameDecodeError):
                lag.observe(wall_ns - frame.ts_event_ns)

    def _event_ns(self, frame: Level2Frame) -> int | None:
        """The frame's timestamp; None (counted, logged sparsely) if it is not RFC 3339."""
        try:
            return frame.ts_event_ns
        except FrameDecodeError as exc:  # the mark is still good; its event time is not
            self.bad_timestamps += 1
            if self.bad_timestamps & (self.bad_timestamps - 1) == 0:  # 1, 2, 4, 8, ...
                _log.warning("level2 frame #%d with a bad timestamp: %s", frame.sequence_num, exc)
            return None

    def _notify(self, message: object) -> None:
        if self._streamer is not None:
            self._streamer.tell(message)

    def _resumed(self) -> MarketDataResumed:
        message_id, ts_created_ns = self._stamper.stamp()
        return MarketDataResumed(
            message_id=message_id, ts_created_ns=ts_created_ns, feed=self._feed
        )

    def report(self) -> MarketDataReported | None:
        """What this translator and its feed have done so far (None before :meth:`bind_feed`).
        Called on the feed thread, or by the owner once that thread has ended."""
        if self._bound is None:
            return None
        message_id, ts_created_ns = self._stamper.stamp()
        return MarketDataReported(
            message_id=message_id,
            ts_created_ns=ts_created_ns,
            feed=self._feed,
            last_data_ns=self._last_data_ns,
            marks_sent=self.marks_sent,
            books_ready=tuple(sorted(s for s, book in self._books.items() if book.ready)),
            bad_timestamps=self.bad_timestamps,
            stats=self._bound.stats(),
            lag=self._lag.snapshot(),
        )

    def _report(self, now_ns: int) -> None:
        report = self.report()
        if report is None:
            return  # not bound to a feed yet
        self._reported_ns = now_ns
        self._unreported = False
        self._notify(report)

    def _invalidate_books(self) -> None:
        self._all_ready = False
        self._skip_undecoded(())  # a mark may come from them again
        self._dirty.clear()
        for book in self._books.values():
            book.invalidate()
        self._tickers_seen.clear()
