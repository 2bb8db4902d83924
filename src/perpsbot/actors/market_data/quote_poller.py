"""QuotePollerActor: REST best bid/ask on a timer, for when the stream cannot be trusted.

It is the primary source of marks when streaming is off, the fallback while the feed is
unhealthy, and idle while the feed is healthy. It follows the feed through the streamer's
``FeedStatusChanged``: the moment the feed turns unhealthy it polls at once, so marks keep
flowing within one poll interval. Errors are isolated per symbol: if the batched quote call
fails, each symbol is asked for on its own, and one symbol's failure never skips the others.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from perpsbot.actors.market_data._inspection import PollerMode, QuotePollerState
from perpsbot.config import BotConfig
from perpsbot.errors import VenueError
from perpsbot.messages import (
    FeedState,
    FeedStatusChanged,
    MarkObserved,
    MarkSource,
    PollQuotes,
    Stamper,
)
from perpsbot.runtime import ActorAddress, ActorContext, BaseActor, ConflatingMailbox
from perpsbot.venue import BestBidAsk
from perpsbot.venue.link import QuoteClient, VenueLink
from perpsbot.venue.recorder import FeedRecorder

__all__ = ["QuotePollerActor", "poller_mailbox"]

logger = logging.getLogger("perpsbot.actors.quote_poller")


def _poll_key(message: Any) -> Hashable | None:
    return PollQuotes if type(message) is PollQuotes else None


def poller_mailbox() -> ConflatingMailbox:
    """Timer ticks conflate: a poll stuck in REST retries is followed by one poll, not a
    backlog of them fired back to back at the venue."""
    return ConflatingMailbox(key_of=_poll_key)


class QuotePollerActor(BaseActor):
    """Polls ``GET /best_bid_ask`` for the configured symbols.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        venue: the process's venue link.
        marks: the mark window's address.
        round_s: every REST call of one polling round ends within this, together (the
            link's ``longest_call_s`` if None); its supervisor's hang timeout allows it.
        recorder: takes every quote polled (``perpsbot run --record``).
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: VenueLink,
        marks: ActorAddress,
        round_s: float | None = None,
        recorder: FeedRecorder | None = None,
    ) -> None:
        super().__init__(context=context)
        self._recorder = recorder
        self._round_s = venue.longest_call_s if round_s is None else round_s
        config: BotConfig = context.config
        self._settings = config.market_data
        self._venue = venue
        self._marks = marks
        self._stamper = Stamper(context.clock, context.ids)
        self._rest: QuoteClient | None = None
        # Told the feed's state by the streamer (its latest at every start of ours).
        streaming = self._settings.streaming
        self._feed_state = FeedState.CONNECTING if streaming else FeedState.DISABLED
        self._polls = self._skipped = self._marks_sent = 0
        self._errors: dict[str, int] = {}

    @property
    def _active(self) -> bool:
        return not self._feed_state.healthy

    def on_start(self) -> None:
        self._rest = self._venue.quote_client()
        self.timers.every(self._settings.poll_interval_s, PollQuotes(), first_delay_s=0.0)

    def on_stop(self) -> None:
        if self._rest is not None:
            self._rest.close()

    def on_failure(self, *_: Any) -> None:
        self.on_stop()  # the next incarnation opens its own session

    def on_receive(self, message: Any) -> None:
        match message:
            case PollQuotes():
                if self._active:
                    self._poll()
                else:
                    self._skipped += 1
            case FeedStatusChanged(state=state):
                was_active = self._active
                self._feed_state = state
                if self._active and not was_active:
                    logger.warning("feed is %s: polling REST quotes as fallback", state.value)
                    self._poll()
                elif was_active and not self._active:
                    logger.info("feed is healthy: REST polling goes idle")
            case _:
                self.unhandled(message)

    def inspect_state(self) -> QuotePollerState:
        mode: PollerMode = "idle"
        if self._active:
            mode = "primary" if self._feed_state is FeedState.DISABLED else "fallback"
        return QuotePollerState(
            mode=mode,
            feed_state=self._feed_state,
            polls=self._polls,
            skipped_while_feed_healthy=self._skipped,
            marks_sent=self._marks_sent,
            errors_by_symbol=dict(self._errors),
        )

    # -- polling ---------------------------------------------------------------------------

    def _poll(self) -> None:
        assert self._rest is not None
        self._polls += 1
        with self._rest.within(self._round_s):  # the watchdog allows this long
            self._poll_round(self._rest)

    def _poll_round(self, rest: QuoteClient) -> None:
        symbols = list(self._settings.symbols)
        received_ns = self.clock.monotonic_ns()
        try:
            quotes = {q.product_id: q for q in rest.best_bid_ask(symbols)}
            missing = [s for s in symbols if s not in quotes]
        except VenueError as error:
            logger.warning("batched quotes failed (%s); asking per symbol", error)
            quotes, missing = {}, symbols
        for symbol in missing:  # one symbol at a time, so one failure skips only itself
            try:
                quotes.update((q.product_id, q) for q in rest.best_bid_ask([symbol]))
            except VenueError as error:
                self._failed(symbol, str(error))
                continue
            if symbol not in quotes:
                self._failed(symbol, "no quote in the reply")
        recorded_ns = self.clock.time_ns()
        for symbol in symbols:
            if symbol in quotes:
                if self._recorder is not None:
                    quote = quotes[symbol]
                    self._recorder.quote(symbol, quote.bid, quote.ask, recorded_ns)
                self._send(symbol, quotes[symbol], received_ns)

    def _send(self, symbol: str, quote: BestBidAsk, received_ns: int) -> None:
        mark: Decimal | None = quote.mid
        if mark is None or not mark.is_finite() or mark <= 0:
            self._failed(symbol, f"no usable mid (bid {quote.bid}, ask {quote.ask})")
            return
        message_id, ts_created_ns = self._stamper.stamp()
        self._marks.tell(
            MarkObserved(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                symbol=symbol,
                mark=mark,
                source=MarkSource.POLL,
                ts_event_ns=quote.ts_ns if quote.ts_ns is not None else self.clock.time_ns(),
                ts_received_ns=received_ns,
            )
        )
        self._marks_sent += 1
        if self._errors.pop(symbol, 0):
            logger.info("%s: REST quotes are back", symbol)

    def _failed(self, symbol: str, why: str) -> None:
        count = self._errors.get(symbol, 0) + 1
        self._errors[symbol] = count
        if count & (count - 1) == 0:  # 1st, 2nd, 4th, 8th...: a lasting outage cannot flood logs
            logger.warning("%s: REST quote failed (%d in a row): %s", symbol, count, why)
