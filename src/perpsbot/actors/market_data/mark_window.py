"""MarkWindowActor: the one owner of every symbol's latest mark and sampled window.

Marks arrive as ``MarkObserved`` from the poller and as pending marks the streamer's feed
thread offers through the ``feed_marks`` coalescer (shared by construction; its wake-up is a
plain ``CoalescedReady`` token); the mailbox keeps only the latest ``MarkObserved`` per
symbol, so a burst never queues. Each cycle (``market_data.update_interval_s``)
it appends every symbol's latest fresh mark to that symbol's window, trims the window to
max(short_ma, long_ma) + 5 and publishes ``MarksSampled``. A symbol without a fresh mark is
reported stale and not appended; a symbol that fails is logged and skipped. The first cycle
does not wait for the timer: it runs as soon as every symbol has a mark, and the regular
cycles follow from there.

Windows survive the actor's restarts (warm restart) and config changes that keep the symbol:
symbols, MA lengths, intervals and staleness are all applied live.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from perpsbot.actors.market_data._inspection import LatestMark, MarkWindowState
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.messages import (
    MarkObserved,
    MarkSample,
    MarksSampled,
    PendingMark,
    SampleMarks,
    Stamper,
)
from perpsbot.runtime import (
    ActorContext,
    BaseActor,
    CoalescedReady,
    Coalescer,
    ConfigChanged,
    ConflatingMailbox,
    TimerHandle,
)

__all__ = ["MarkWindowActor", "mark_window_mailbox", "window_length"]

logger = logging.getLogger("perpsbot.actors.mark_window")


def window_length(market_data: MarketDataConfig) -> int:
    """How many samples a window keeps: the original's max(short_ma, long_ma) + 5."""
    return max(market_data.short_ma, market_data.long_ma) + 5


def _symbol_key(message: Any) -> Hashable | None:
    if type(message) is MarkObserved:
        return message.symbol
    return SampleMarks if type(message) is SampleMarks else None


def mark_window_mailbox() -> ConflatingMailbox:
    """The mark window's mailbox: ``MarkObserved`` conflates per symbol and cycle ticks into
    one, so a late cycle never queues more; the rest is FIFO."""
    return ConflatingMailbox(key_of=_symbol_key)


class MarkWindowActor(BaseActor):
    """Owns the latest mark and a bounded window of sampled marks per symbol.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        feed_marks: where the feed thread offers marks; this actor binds to it at start and
            takes from it on each ``CoalescedReady`` (one of its own if None).
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        feed_marks: Coalescer[str, PendingMark] | None = None,
    ) -> None:
        super().__init__(context=context)
        self._feed_marks: Coalescer[str, PendingMark] = feed_marks or Coalescer("feed-marks")
        config: BotConfig = context.config
        self._settings = config.market_data
        self._stamper = Stamper(context.clock, context.ids)
        self._latest: dict[str, MarkObserved] = {}
        self._windows: dict[str, deque[Decimal]] = {}
        self._cycle = 0
        self._unhealthy: set[str] = set()  # symbols whose trouble was logged already
        self._timer: TimerHandle | None = None
        self._awaiting_first = True  # until the first cycle: sample once all symbols have marks
        self._reshape_windows()

    def on_start(self) -> None:
        self._feed_marks.bind(self.address)
        self._timer = self.timers.every(self._settings.update_interval_s, SampleMarks())

    def on_receive(self, message: Any) -> None:
        match message:
            case MarkObserved():
                self.observe_mark(message)
            case CoalescedReady():
                self._on_pending_marks(self._feed_marks.take())
            case SampleMarks():
                self._on_sample_marks()
            case _:
                self.unhandled(message)

    def on_config_changed(self, message: ConfigChanged) -> None:
        old = self._settings
        self._settings = message.config.market_data
        self._reshape_windows()
        if self._settings.update_interval_s != old.update_interval_s and self._timer:
            self._timer.cancel()
            self._timer = self.timers.every(self._settings.update_interval_s, SampleMarks())
        logger.info("mark windows now cover %s", ", ".join(self._settings.symbols))

    # -- state across restarts and for inspection ------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {
            "cycle": self._cycle,
            "latest": dict(self._latest),
            "windows": {symbol: tuple(w) for symbol, w in self._windows.items()},
        }

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._cycle = snapshot["cycle"]
        self._awaiting_first = self._cycle == 0
        self._latest = {s: m for s, m in snapshot["latest"].items() if s in self._windows}
        for symbol, window in snapshot["windows"].items():
            if symbol in self._windows:
                self._windows[symbol].extend(window)

    def inspect_state(self) -> MarkWindowState:
        now_ns = self.clock.monotonic_ns()
        return MarkWindowState(
            cycle=self._cycle,
            symbols=tuple(self._settings.symbols),
            stale_after_s=self._settings.stale_after_s,
            latest={
                s: LatestMark(mark=m.mark, source=m.source, age_s=(now_ns - m.ts_received_ns) / 1e9)
                for s, m in self._latest.items()
            },
            windows={symbol: tuple(w) for symbol, w in self._windows.items()},
        )

    # -- handlers --------------------------------------------------------------------------

    def observe_mark(self, message: MarkObserved) -> None:
        """Take ``message`` as the symbol's latest mark if it is newer: the one entry point for
        marks told by the poller and marks coalesced from the feed thread."""
        if message.symbol not in self._windows:
            self.unhandled(message)  # not a configured symbol (e.g. just removed)
            return
        previous = self._latest.get(message.symbol)
        if previous is None or message.ts_received_ns >= previous.ts_received_ns:
            self._latest[message.symbol] = message
            if self._awaiting_first and len(self._latest) == len(self._windows):
                self._first_cycle_now()

    def _first_cycle_now(self) -> None:
        """Every symbol has its first mark: sample now, then every interval from here."""
        self._awaiting_first = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self.timers.every(self._settings.update_interval_s, SampleMarks())
        self._on_sample_marks()

    def _on_pending_marks(self, pending: dict[str, PendingMark]) -> None:
        for symbol, offered in pending.items():
            message_id, ts_created_ns = self._stamper.stamp()
            self.observe_mark(
                MarkObserved(
                    message_id=message_id,
                    ts_created_ns=ts_created_ns,
                    symbol=symbol,
                    mark=offered.mark,
                    source=offered.source,
                    ts_event_ns=offered.ts_event_ns,
                    ts_received_ns=offered.ts_received_ns,
                )
            )

    def _on_sample_marks(self) -> None:
        self._awaiting_first = False
        self._cycle += 1
        now_ns = self.clock.monotonic_ns()
        samples = []
        for symbol in self._settings.symbols:
            try:
                samples.append(self._sample(symbol, now_ns))
            except Exception:
                # One symbol's bad data must not stop the others (the original's rule).
                logger.exception("cycle %d: sampling %s failed; skipped", self._cycle, symbol)
        message_id, ts_created_ns = self._stamper.stamp()
        self.publish(
            MarksSampled(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                cycle=self._cycle,
                samples=tuple(samples),
            )
        )

    def _sample(self, symbol: str, now_ns: int) -> MarkSample:
        window = self._windows[symbol]
        latest = self._latest.get(symbol)
        age_s = None if latest is None else (now_ns - latest.ts_received_ns) / 1e9
        stale = age_s is None or age_s > self._settings.stale_after_s
        if stale:
            self._note_unhealthy(symbol, "no mark yet" if latest is None else f"{age_s:.1f}s old")
        else:
            assert latest is not None
            window.append(latest.mark)
            if symbol in self._unhealthy:
                self._unhealthy.discard(symbol)
                logger.info("%s has fresh marks again", symbol)
        return MarkSample(
            symbol=symbol,
            mark=None if latest is None else latest.mark,
            source=None if latest is None else latest.source,
            age_s=age_s,
            stale=stale,
            window=tuple(window),
        )

    def _note_unhealthy(self, symbol: str, why: str) -> None:
        if symbol not in self._unhealthy:
            self._unhealthy.add(symbol)
            logger.warning("%s: no fresh mark (%s); not sampled until one arrives", symbol, why)

    def _reshape_windows(self) -> None:
        """Add and remove windows for the configured symbols; re-trim to the configured length."""
        length = window_length(self._settings)
        windows: dict[str, deque[Decimal]] = {}
        for symbol in self._settings.symbols:
            windows[symbol] = deque(self._windows.get(symbol, ()), maxlen=length)
        self._windows = windows
        self._latest = {s: m for s, m in self._latest.items() if s in windows}
