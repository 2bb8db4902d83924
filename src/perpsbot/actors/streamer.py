"""StreamerActor: owns the market-data websocket feed and reports its health.

The feed thread decodes frames and hands them to a :class:`MarkTranslator`, which keeps the
books and tells marks to the mark window directly. The streamer itself handles the feed's
status events: it publishes ``FeedStatusChanged`` (connected, subscribed, gap, stale,
reconnecting with attempt and delay) to its subscribers, replaces a feed that sends only
heartbeats, and fails (to be restarted) if the feed thread ever ends on its own.
"""

from __future__ import annotations

import logging
from typing import Any

from perpsbot.actors._mark_translator import DataResumed, DataSilent, MarkTranslator
from perpsbot.config import BotConfig, Channel
from perpsbot.messages import FeedState, FeedStatusChanged, Stamper
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    BaseActor,
    Subscribe,
    Subscribers,
    Unsubscribe,
)
from perpsbot.venue import (
    FeedConnected,
    FeedDisconnected,
    FeedErrorReceived,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedStopped,
    FeedSubscribed,
    WebSocketFeed,
)
from perpsbot.venue.link import VenueLink

__all__ = ["CHANNELS", "StreamerActor"]

logger = logging.getLogger("perpsbot.actors.streamer")

#: The configured channel first, then the fallback used while the book is unavailable.
CHANNELS: dict[Channel, tuple[str, ...]] = {
    Channel.LEVEL2: ("level2", "ticker"),
    Channel.TICKER: ("ticker", "market_trades"),
    Channel.MARKET_TRADES: ("market_trades",),
}


class StreamerActor(BaseActor):
    """Runs the market websocket feed for the configured symbols.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        venue: the process's venue link (URLs, shared budget, signer).
        marks: the mark window's address.
        subscribers: told every ``FeedStatusChanged`` (more can ``Subscribe``).
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: VenueLink,
        marks: ActorAddress,
        subscribers: tuple[ActorAddress, ...] = (),
    ) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._settings = config.market_data
        self._venue = venue
        self._marks = marks
        self._stamper = Stamper(context.clock, context.ids)
        self._subscribers = Subscribers((FeedStatusChanged, a) for a in subscribers)
        self._status = self._make_status(FeedState.CONNECTING, "starting")
        self._feed: WebSocketFeed | None = None
        self._translator: MarkTranslator | None = None
        self._reconnects = 0
        self._gaps = 0
        self._feed_restarts = 0

    def on_start(self) -> None:
        if not self._settings.streaming:
            self._publish(FeedState.DISABLED, "market_data.streaming is off")
            return
        self._start_feed()

    def on_stop(self) -> None:
        self._stop_feed()

    def on_failure(self, *_: Any) -> None:
        # The feed thread is ours: it must not outlive this incarnation and feed the next.
        self._stop_feed()

    def on_receive(self, message: Any) -> None:
        match message:
            case FeedConnected(attempt=attempt):
                self._publish(FeedState.CONNECTED, f"connected to {message.url}", attempt=attempt)
            case FeedSubscribed(channels=channels):
                # Healthy (SUBSCRIBED) only once data flows: see DataResumed.
                self._publish(
                    FeedState.CONNECTED, f"subscribed to {', '.join(channels)}; awaiting data"
                )
            case FeedGapDetected(expected=expected, found=found):
                self._gaps += 1
                self._publish(
                    FeedState.GAP_DETECTED,
                    f"sequence gap: expected {expected}, found {found}; resubscribing level2",
                )
            case FeedStale(silent_s=silent_s):
                self._publish(FeedState.STALE, f"no message for {silent_s:.1f}s; reconnecting")
            case FeedDisconnected(reason=reason):
                self._publish(FeedState.RECONNECTING, f"disconnected: {reason}")
            case FeedReconnecting(attempt=attempt, delay_s=delay_s, reason=reason):
                self._reconnects += 1
                self._publish(FeedState.RECONNECTING, reason, attempt=attempt, delay_s=delay_s)
            case FeedErrorReceived(message=text):
                logger.warning("venue sent an error frame: %s", text)
            case FeedStopped():
                self._on_feed_stopped()
            case DataSilent(silent_s=silent_s):
                self._on_data_silent(silent_s)
            case DataResumed():
                self._publish(FeedState.SUBSCRIBED, "market data is flowing")
            case Subscribe() | Unsubscribe():
                self._subscribers.apply(message)
                if isinstance(message, Subscribe):
                    message.subscriber.tell(self._status)
            case _:
                self.unhandled(message)

    def snapshot_state(self) -> Any:
        return {"subscribers": list(self._subscribers)}

    def restore_state(self, snapshot: Any) -> None:
        for topic, address in snapshot["subscribers"]:
            self._subscribers.add(topic, address)

    def inspect_state(self) -> dict[str, Any]:
        feed, translator = self._feed, self._translator
        return {
            "state": self._status.state.value,
            "detail": self._status.detail,
            "channels": list(CHANNELS[self._settings.channel]),
            "symbols": list(self._settings.symbols),
            "reconnects": self._reconnects,
            "gaps": self._gaps,
            "feed_restarts": self._feed_restarts,
            "feed": None if feed is None else feed.stats(),
            "translator": None if translator is None else translator.stats(),
            "subscribers": self._subscribers.paths(),
        }

    # -- the feed --------------------------------------------------------------------------

    def _start_feed(self) -> None:
        settings = self._settings
        self._translator = MarkTranslator(
            symbols=settings.symbols,
            marks=self._marks,
            streamer=self.address,
            clock=self.clock,
            stale_after_s=settings.stale_after_s,
            owner_alive=lambda: not self.superseded(),
        )
        self._feed = self._venue.market_feed(
            channels=CHANNELS[settings.channel],
            product_ids=settings.symbols,
            on_frame=self._translator.on_frame,
            on_status=self._translator.on_status,
            on_wait=self._translator.flush,
            stale_after_s=settings.stale_after_s,
        )
        self._translator.bind_feed(self._feed.stop)
        self._publish(FeedState.CONNECTING, f"connecting to {self._venue.market_ws_url}")
        self._feed.start()

    def _stop_feed(self) -> None:
        feed, self._feed = self._feed, None
        if self._translator is not None:
            self._translator.detach()
        if feed is not None and not feed.stop(timeout_s=5.0):
            logger.error("the feed thread did not stop within 5s; it is abandoned")

    def _on_feed_stopped(self) -> None:
        # A feed we stop is detached first, so its FeedStopped never reaches us: this one
        # ended on its own. Failing makes the supervisor start a streamer with a new feed.
        if self._feed is not None:
            raise RuntimeError("the websocket feed thread ended on its own")

    def _on_data_silent(self, silent_s: float) -> None:
        self._publish(
            FeedState.STALE, f"only heartbeats for {silent_s:.1f}s; replacing the connection"
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
        self._subscribers.publish(self._status)
