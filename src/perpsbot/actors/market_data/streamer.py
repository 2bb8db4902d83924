"""StreamerActor: owns the market-data websocket feed and reports its health.

The feed thread decodes frames and hands them to a :class:`MarkTranslator`, which keeps the
books and offers marks to the mark window through the ``feed_marks`` coalescer. The streamer
itself handles the feed's status events: it publishes ``FeedStatusChanged`` (connected,
subscribed, gap, stale, reconnecting with attempt and delay) to its subscribers, and fails
(to be restarted) if the feed thread ever ends on its own.

Silence is judged here, on a timer, from the time of the latest market-data message (which
the translator reports): a connection over which only heartbeats, websocket pings or the
dribbles of a frame that never completes arrive for ``stale_after_s`` is stale, and is
replaced. The streamer reads nothing of the feed thread's objects while that thread runs:
what it shows in inspection comes from the translator's latest ``MarketDataReported``, plus
what the connections it replaced counted (read from each once its thread has ended:
:mod:`._feed_counts`), so its counters only grow while this incarnation lives. Its mailbox
conflates the feed's events (:mod:`._streamer_mailbox`).

A venue whose link brings its own mark feed (``VenueLink.market_marks``: the Global gateway's
``book`` channels) is run instead: that feed offers marks itself and replaces its own silent
socket; the streamer reads its health on the same timer and publishes what changed
(:mod:`._venue_marks`).
"""

from __future__ import annotations

import logging
from typing import Any

from perpsbot.actors.market_data._feed_counts import FeedCounts
from perpsbot.actors.market_data._inspection import StreamerState
from perpsbot.actors.market_data._mark_translator import MarkTranslator
from perpsbot.actors.market_data._streamer_mailbox import streamer_mailbox
from perpsbot.actors.market_data._venue_marks import venue_feed_state, venue_feed_status
from perpsbot.config import BotConfig, Channel
from perpsbot.messages import (
    CheckFeedSilence,
    FeedConnected,
    FeedDisconnected,
    FeedErrorReceived,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedState,
    FeedStatusChanged,
    FeedStopped,
    FeedSubscribed,
    MarketDataReported,
    MarketDataResumed,
    PendingMark,
    Stamper,
)
from perpsbot.runtime import ActorContext, BaseActor, Coalescer
from perpsbot.venue import WebSocketFeed
from perpsbot.venue.link import VenueLink, VenueMarkFeed
from perpsbot.venue.recorder import FeedRecorder

__all__ = ["CHANNELS", "StreamerActor", "streamer_mailbox"]

logger = logging.getLogger("perpsbot.actors.streamer")

#: The configured channel first, then the fallback used while the book is unavailable.
CHANNELS: dict[Channel, tuple[str, ...]] = {
    Channel.LEVEL2: ("level2", "ticker"),
    Channel.TICKER: ("ticker", "market_trades"),
    Channel.MARKET_TRADES: ("market_trades",),
}

#: Silence is checked this many times per ``stale_after_s``.
_CHECKS_PER_STALE = 4
#: The translator reports its counters at least this often while data flows (and as often
#: as silence is checked, if that is more often), so metrics built on them stay current.
_REPORT_EVERY_S = 0.25


class StreamerActor(BaseActor):
    """Runs the market websocket feed for the configured symbols.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        venue: the process's venue link (URLs, shared budget, signer).
        feed_marks: where the feed thread offers marks (the mark window binds to it).
        recorder: takes every message the feed receives, as received (``perpsbot run
            --record``).
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: VenueLink,
        feed_marks: Coalescer[str, PendingMark],
        recorder: FeedRecorder | None = None,
    ) -> None:
        super().__init__(context=context)
        self._recorder = recorder
        config: BotConfig = context.config
        self._settings = config.market_data
        self._venue = venue
        self._feed_marks = feed_marks
        self._ids = context.ids
        self._stamper = Stamper(context.clock, context.ids)
        self._status = self._make_status(FeedState.CONNECTING, "starting")
        self._feed: WebSocketFeed | None = None
        self._translator: MarkTranslator | None = None
        self._last_report: MarketDataReported | None = None  # the current connection's
        self._last_data_ns: int | None = None  # as of the latest report, of any connection
        self._replaced = FeedCounts()
        self._connections = 0
        self._live = False  # a connection is up: market data is expected on it
        self._data_since_ns = 0  # the latest market data, or when it became expected
        self._stale_after_ns = int(self._settings.stale_after_s * 1e9)
        self._feed_restarts = 0
        self._venue_feed: VenueMarkFeed | None = None

    def on_start(self) -> None:
        if not self._settings.streaming:
            self._publish(FeedState.DISABLED, "market_data.streaming is off")
            return
        if self._venue.market_marks is not None:
            self._start_venue_feed()
            return
        self._start_feed()
        every_s = self._settings.stale_after_s / _CHECKS_PER_STALE
        self.timers.every(every_s, CheckFeedSilence())

    def on_stop(self) -> None:
        self._stop_feed()
        self._stop_venue_feed()

    def on_failure(self, *_: Any) -> None:
        # The feed thread is ours: it must not outlive this incarnation and feed the next.
        self._stop_feed()
        self._stop_venue_feed()

    def on_receive(self, message: Any) -> None:
        match message:
            case FeedConnected() | FeedSubscribed() | MarketDataResumed():
                self._on_live(message)
            case FeedGapDetected(expected=expected, found=found):
                self._publish(
                    FeedState.GAP_DETECTED,
                    f"sequence gap: expected {expected}, found {found}; resubscribing level2",
                )
            case FeedStale(silent_s=silent_s):
                self._live = False
                self._publish(FeedState.STALE, f"no message for {silent_s:.1f}s; reconnecting")
            case FeedDisconnected(reason=reason):
                self._live = False
                self._publish(FeedState.RECONNECTING, f"disconnected: {reason}")
            case FeedReconnecting(attempt=attempt, delay_s=delay_s, reason=reason):
                self._live = False
                self._publish(FeedState.RECONNECTING, reason, attempt=attempt, delay_s=delay_s)
            case FeedErrorReceived(message=text):
                logger.warning("venue sent an error frame: %s", text)
            case FeedStopped():
                self._on_feed_stopped()
            case MarketDataReported():
                if message.feed != self._feed_name():
                    return  # a replaced connection's, told before it was detached
                self._last_report = message
                self._last_data_ns = message.last_data_ns
                self._data_since_ns = max(self._data_since_ns, message.last_data_ns)
            case CheckFeedSilence() if self._venue_feed is not None:
                self._check_venue_feed(self._venue_feed)
            case CheckFeedSilence():
                self._on_check_silence()
            case _:
                self.unhandled(message)

    def inspect_state(self) -> StreamerState:
        if self._venue_feed is not None:
            symbols = tuple(self._settings.symbols)
            return venue_feed_state(self._venue_feed, self._status, symbols)
        report = self._last_report
        counted = self._replaced if report is None else self._replaced.plus(report)
        stats = None if report is None and not self._feed_restarts else counted.stats
        age_s = None
        if self._last_data_ns is not None:
            age_s = (self.clock.monotonic_ns() - self._last_data_ns) / 1e9
        return StreamerState(
            state=self._status.state,
            detail=self._status.detail,
            channels=CHANNELS[self._settings.channel],
            symbols=tuple(self._settings.symbols),
            feed_restarts=self._feed_restarts,
            feed=stats,
            gaps=0 if stats is None else stats.gaps,
            reconnects=0 if stats is None else max(0, stats.connect_attempts - 1),
            marks_sent=counted.marks_sent,
            last_data_age_s=age_s,
            bad_timestamps=counted.bad_timestamps,
            lag=counted.lag,
            books_ready=() if report is None else tuple(report.books_ready),
        )

    # -- a venue's own feed (the Global gateway's book channels: _venue_marks) -------------

    def _start_venue_feed(self) -> None:
        assert self._venue.market_marks is not None
        symbols = tuple(self._settings.symbols)
        self._venue_feed = self._venue.market_marks(self._feed_marks.offer, symbols).start()
        self._publish(FeedState.CONNECTING, "connecting to the venue's market-data channels")
        self.timers.every(self._settings.stale_after_s / _CHECKS_PER_STALE, CheckFeedSilence())

    def _stop_venue_feed(self) -> None:
        feed, self._venue_feed = self._venue_feed, None
        if feed is not None:
            feed.stop()

    def _check_venue_feed(self, feed: VenueMarkFeed) -> None:
        state, detail = venue_feed_status(feed)
        if state is not self._status.state:
            self._publish(state, detail)

    # -- the feed --------------------------------------------------------------------------

    def _feed_name(self) -> str:
        return f"market-{self._connections}"

    def _start_feed(self) -> None:
        settings = self._settings
        self._connections += 1
        translator = MarkTranslator(
            symbols=settings.symbols,
            marks=self._feed_marks,
            streamer=self.address,
            clock=self.clock,
            ids=self._ids,
            feed=self._feed_name(),
            report_every_s=min(_REPORT_EVERY_S, settings.stale_after_s / _CHECKS_PER_STALE),
            owner_alive=lambda: not self.superseded(),
        )
        self._feed = self._venue.market_feed(
            channels=CHANNELS[settings.channel],
            product_ids=settings.symbols,
            on_frame=translator.on_frame,
            on_status=translator.on_status,
            on_wait=translator.flush,
            on_raw=None if self._recorder is None else self._recorder.frame,
            stale_after_s=settings.stale_after_s,
            ids=self._ids,
        )
        # Unused channels are unsubscribed, unless the feed is recorded: a recording keeps
        # every message, so they are only left undecoded then.
        feed = self._feed
        pause = feed.pause if self._recorder is None else feed.skip_undecoded
        translator.bind_feed(feed.stop, feed.stats, pause)
        self._translator = translator
        self._live = False
        self._publish(FeedState.CONNECTING, f"connecting to {self._venue.market_ws_url}")
        self._feed.start()

    def _stop_feed(self) -> None:
        feed, self._feed = self._feed, None
        translator, self._translator = self._translator, None
        if translator is not None:
            translator.detach()  # its feed's last events must not reach us
        if feed is None:
            return
        ended = feed.stop(timeout_s=5.0)
        if not ended:
            logger.error("the feed thread did not stop within 5s; it is abandoned")
        # What it counted: read from it once its thread has ended, else its latest report.
        final = translator.report() if ended and translator is not None else self._last_report
        if final is not None:
            self._replaced = self._replaced.plus(final)
        self._last_report = None

    def _on_live(self, message: FeedConnected | FeedSubscribed | MarketDataResumed) -> None:
        self._live = True
        self._data_since_ns = self.clock.monotonic_ns()  # silence counts from here at most
        match message:
            case FeedConnected(url=url, attempt=attempt):
                self._publish(FeedState.CONNECTED, f"connected to {url}", attempt=attempt)
            case FeedSubscribed(channels=channels):
                # Healthy (SUBSCRIBED) only once data flows: see MarketDataResumed.
                self._publish(
                    FeedState.CONNECTED, f"subscribed to {', '.join(channels)}; awaiting data"
                )
            case MarketDataResumed():
                self._publish(FeedState.SUBSCRIBED, "market data is flowing")

    def _on_check_silence(self) -> None:
        if self._feed is None or not self._live:
            return  # no connection: the feed's own reconnects are under way
        silent_ns = self.clock.monotonic_ns() - self._data_since_ns
        if silent_ns > self._stale_after_ns:
            self._on_data_silent(silent_ns / 1e9)

    def _on_feed_stopped(self) -> None:
        # A feed we stop is detached first, so its FeedStopped never reaches us: this one
        # ended on its own. Failing makes the supervisor start a streamer with a new feed.
        if self._feed is not None:
            raise RuntimeError("the websocket feed thread ended on its own")

    def _on_data_silent(self, silent_s: float) -> None:
        self._publish(
            FeedState.STALE, f"no market data for {silent_s:.1f}s; replacing the connection"
        )
        self._feed_restarts += 1
        self._stop_feed()
        self._start_feed()

    def _make_status(
        self,
        state: FeedState,
        detail: str,
        attempt: int | None = None,
        delay_s: float | None = None,
    ) -> FeedStatusChanged:
        message_id, ts_created_ns = self._stamper.stamp()
        return FeedStatusChanged(
            message_id=message_id,
            ts_created_ns=ts_created_ns,
            state=state,
            detail=detail,
            attempt=attempt,
            delay_s=delay_s,
        )

    def _publish(
        self,
        state: FeedState,
        detail: str,
        attempt: int | None = None,
        delay_s: float | None = None,
    ) -> None:
        changed = state is not self._status.state
        self._status = self._make_status(state, detail, attempt, delay_s)
        if changed or attempt is not None:
            quiet = state.healthy or state in (FeedState.CONNECTING, FeedState.CONNECTED)
            log = logger.info if quiet else logger.warning
            log("feed %s: %s", state.value, detail)
        self.publish(self._status)
