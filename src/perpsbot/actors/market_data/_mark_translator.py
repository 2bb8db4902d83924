"""Turns decoded feed frames into marks, on the feed thread.

The translator is the websocket thread's half of the streamer: it keeps the local level2
books (:class:`LocalBooks`, data that only this thread touches, one set per connection),
has the :class:`MarkEmitter` tell each symbol's mark straight to the mark window, whose
mailbox conflates per symbol, and reports to the streamer. Nothing on this path queues
without bound, and no frame waits behind another actor's work.

While every book is ready the ticker and market trades give no mark: the books have the feed
pause them (``WebSocketFeed.pause``: unsubscribed, so they cost nothing; while the feed is
recorded, ``WebSocketFeed.skip_undecoded``: forwarded undecoded, as ``SkippedFrame``, which
still counts as market data for silence, at a fraction of a decoded frame's cost).

Work is batched per socket read. A frame only updates its book and notes the symbol; the
feed calls :meth:`MarkTranslator.flush` before it reads the socket again, and only then are
mids computed and offered through a :class:`~perpsbot.runtime.Coalescer`. A burst that
arrives in one read costs one mid and one offer per symbol, and the mark window builds one
``MarkObserved`` per symbol per wake-up; a lone frame is flushed before the thread waits, so
it is never held back.
Heartbeats alone never refresh a mark. A connection counts as healthy
(``MarketDataResumed``) only from its first market-data frame. The translator tells the
streamer a ``MarketDataReported`` (its counters, the feed's lag and the time of the latest
market data) at most every ``report_every_s`` while data flows, once more at the first read
without market data after it (a heartbeat, a ping), and with every connection event: the
streamer judges silence from these on its own timer, and never reads this object's fields.
The lag is sampled at most every 10 ms, so a timestamp is parsed for it that rarely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

import attrs

from perpsbot.actors.market_data._feed_lag import LagMeter
from perpsbot.actors.market_data._local_books import LocalBooks
from perpsbot.actors.market_data._mark_emitter import MarkEmitter
from perpsbot.clock import Clock
from perpsbot.ids import IdSource
from perpsbot.messages import (
    FeedConnected,
    FeedDisconnected,
    FeedGapDetected,
    FeedStats,
    FeedStatus,
    MarketDataReported,
    MarketDataResumed,
    PendingMark,
    Stamper,
)
from perpsbot.runtime import ActorAddress, Coalescer
from perpsbot.venue import Frame, Level2Frame, MarketTradesFrame, SkippedFrame, TickerFrame

__all__ = ["MarkTranslator"]

_log = logging.getLogger("perpsbot.actors.streamer")
_MAX_BATCH = 128  # level2 frames between flushes, at most (~1 ms of a full-speed burst)
#: Feed lag is sampled at most this often: a level2 timestamp costs ~0.5 us to parse, and a
#: trickle flushes for every frame.
_LAG_EVERY_NS = 10_000_000


@attrs.frozen
class _BoundFeed:
    """The feed a translator serves, as :meth:`MarkTranslator.bind_feed` was given it."""

    stop: Callable[[], object]
    stats: Callable[[], FeedStats]


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
        self._books = LocalBooks(symbols)
        self._apply_level2 = self._books.apply  # the hot path's, bound once
        self._changed = self._books.changed
        self._emitter = MarkEmitter(marks, clock.time_ns, refresh_s)
        self._streamer: ActorAddress | None = streamer
        self._clock = clock
        self._monotonic_ns = clock.monotonic_ns
        self._stamper = Stamper(clock, ids)
        self._feed = feed
        self._report_every_ns = int(report_every_s * 1e9)
        self._reported_ns = 0  # when the last report was told
        self._unreported = False  # market data arrived since the last report
        self._last_data_ns = clock.monotonic_ns()
        #: When the current batch's first frame came (never 0, even on a fake clock at 0);
        #: 0 while no batch is open.
        self._batch_ns = 0
        self._batched = 0  # level2 frames since the last flush
        self._silent = True
        self._lag = LagMeter()
        self._owner_alive = owner_alive
        self._bound: _BoundFeed | None = None
        self._orphaned = False

    # -- the feed thread -------------------------------------------------------------------

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is Level2Frame:
            # The hot path: every frame of a burst comes here; nothing but the books.
            if not self._batch_ns:
                self._batch_ns = self._monotonic_ns() or 1
            if self._apply_level2(frame):  # every book ready again after a gap
                self._notify(self._resumed())
            self._batched += 1
            if self._batched >= _MAX_BATCH:
                self.flush()  # a long read must not hold marks back for milliseconds
        elif type(frame) is SkippedFrame:
            if not self._batch_ns:  # market data all the same: it opens a batch
                self._batch_ns = self._monotonic_ns() or 1
        elif type(frame) is TickerFrame:
            self._lag.other_event_ns = frame.ts_event_ns
            self._emitter.on_ticker(frame, self._books, self._batch_now())
        elif type(frame) is MarketTradesFrame:
            self._lag.other_event_ns = frame.ts_event_ns
            self._emitter.on_trades(frame, self._books, self._batch_now())

    def flush(self) -> None:
        """Offer the marks of everything received since the last flush (the feed calls this
        before each socket read)."""
        if self._orphaned or (not self._owner_alive() and self._go_quiet()):
            return
        received_ns = self._batch_ns  # the batch's first frame: lag is not hidden
        if not received_ns:
            if self._unreported:  # data paused: the report of its tail goes out now
                self._report(self._monotonic_ns())
            return
        self._batch_ns = 0
        self._unreported = True
        self._batched = 0
        now_ns = self._monotonic_ns()
        self._last_data_ns = now_ns
        resumed = self._silent
        self._silent = False
        lag: LagMeter | None = self._lag
        read_wall_ns = 0
        if now_ns >= self._lag.next_sample_ns:  # this batch's lag is sampled
            read_wall_ns = self._sample_lag(now_ns, received_ns)
        else:  # most batches: nothing sampled, nothing parsed for it
            self._lag.other_event_ns = 0
            lag = None
        if self._changed:
            self._emitter.offer_books(self._changed, now_ns, received_ns, lag, read_wall_ns)
        elif self._emitter.waiting:
            self._emitter.offer_fallbacks(now_ns)
        if resumed or now_ns - self._reported_ns >= self._report_every_ns:
            self._report(now_ns)
        if resumed:  # after its report: healthy is never shown with the counters of before
            self._notify(self._resumed())

    def on_status(self, event: FeedStatus) -> None:
        if self._orphaned or (not self._owner_alive() and self._go_quiet()):
            return
        if type(event) is FeedGapDetected:
            self.flush()  # frames before the gap were good: their marks still count
            self._books.resync()
            self._emitter.forget_tickers()
        elif type(event) is FeedConnected:
            self._silent = True  # healthy only once market data actually flows
            self._last_data_ns = self._monotonic_ns()
        elif type(event) is FeedDisconnected:
            self.flush()  # what the lost connection delivered still counts
            self._books.invalidate()  # the next connection starts with fresh snapshots
            self._emitter.forget_tickers()
        self._notify(event)
        self._report(self._monotonic_ns())  # counters stay current through an outage

    def detach(self) -> None:
        """Stop forwarding to the streamer (it is replacing or stopping this feed)."""
        self._streamer = None

    def bind_feed(
        self,
        stop: Callable[[], object],
        stats: Callable[[], FeedStats],
        pause: Callable[[Collection[str]], None] | None = None,
    ) -> None:
        """The feed this translator serves: how to stop it should its owner be replaced, its
        counters for the reports, and how to tell it which channels it has no use for now
        (``WebSocketFeed.pause`` or ``skip_undecoded``; None receives everything always)."""
        self._bound = _BoundFeed(stop, stats)
        self._books.bind(pause)

    @property
    def marks_sent(self) -> int:
        """Marks offered to the mark window so far."""
        return self._emitter.marks_sent

    @property
    def bad_timestamps(self) -> int:
        """Level2 frames whose timestamp was not RFC 3339 (their marks were still sent)."""
        return self._emitter.bad_timestamps

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
            books_ready=self._books.ready_symbols(),
            bad_timestamps=self.bad_timestamps,
            stats=self._bound.stats(),
            lag=self._lag.snapshot(),
        )

    # -- helpers ---------------------------------------------------------------------------

    def _batch_now(self) -> int:
        """Now; market data since the last flush opens a batch, received at its first frame
        (the level2 hot path does the same inline)."""
        now_ns = self._monotonic_ns()
        if not self._batch_ns:
            self._batch_ns = now_ns or 1
        return now_ns

    def _go_quiet(self) -> bool:
        """The streamer owning this feed was replaced: forward nothing more, stop the feed."""
        self._orphaned = True
        self._streamer = None
        self._changed.clear()
        self._emitter.drop_waiting()
        _log.warning("the streamer owning this feed was replaced; stopping the feed")
        if self._bound is not None:
            self._bound.stop()  # from the feed thread: it ends before its next frame
        return True

    def _sample_lag(self, now_ns: int, received_ns: int) -> int:
        """Observe the lag of this batch's latest ticker or trades message to its socket
        read, and return that read's wall-clock time (each changed book's latest level2
        message gives a sample too, as its mark is considered)."""
        lag = self._lag
        lag.next_sample_ns = now_ns + _LAG_EVERY_NS
        wall_ns = self._clock.time_ns() - (now_ns - received_ns)  # the read, on the wall clock
        if lag.other_event_ns:
            lag.observe(wall_ns - lag.other_event_ns)
            lag.other_event_ns = 0
        return wall_ns

    def _notify(self, message: object) -> None:
        if self._streamer is not None:
            self._streamer.tell(message)

    def _resumed(self) -> MarketDataResumed:
        message_id, ts_created_ns = self._stamper.stamp()
        return MarketDataResumed(
            message_id=message_id, ts_created_ns=ts_created_ns, feed=self._feed
        )

    def _report(self, now_ns: int) -> None:
        report = self.report()
        if report is None:
            return  # not bound to a feed yet
        self._reported_ns = now_ns
        self._unreported = False
        self._notify(report)
