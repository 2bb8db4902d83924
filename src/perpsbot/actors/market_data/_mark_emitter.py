"""Which marks leave the feed thread, and when: the mark translator's emission half.

The mark is the book's mid when the book is ready, else the ticker's mid (or price), else the
last trade price. A mark is offered to the mark window's coalescer when it changes, or at
least every ``refresh_s`` while data for the symbol keeps arriving. Book mids are computed
(exactly, as decimals) only at a flush, one per changed book; ticker and trade marks, which
count only while a book is not usable, wait for the same flush.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from perpsbot.actors.market_data._feed_lag import LagMeter
from perpsbot.actors.market_data._local_books import LocalBooks
from perpsbot.errors import FrameDecodeError
from perpsbot.messages import MarkSource, PendingMark
from perpsbot.runtime import Coalescer
from perpsbot.venue import Level2Frame, MarketTradesFrame, OrderBook, TickerFrame, mid_of

__all__ = ["MarkEmitter"]

_TWO = Decimal(2)
_log = logging.getLogger("perpsbot.actors.streamer")


class MarkEmitter:
    """Offers each symbol's mark when it is due.

    Args:
        marks: where marks are offered (the mark window takes them).
        time_ns: the wall clock, the event time of a mark whose frame's timestamp is bad.
        refresh_s: the longest an unchanged mark goes unsent while data arrives.
    """

    __slots__ = (
        "_fallbacks", "_marks", "_refresh_ns", "_sent", "_tickers_seen", "_time_ns",
        "bad_timestamps", "marks_sent",
    )  # fmt: skip

    def __init__(
        self, marks: Coalescer[str, PendingMark], time_ns: Callable[[], int], refresh_s: float
    ) -> None:
        self._marks = marks
        self._time_ns = time_ns
        self._refresh_ns = int(refresh_s * 1e9)
        self._sent: dict[str, tuple[object, int]] = {}  # last mark (as compared) and when
        self._fallbacks: dict[str, PendingMark] = {}  # ticker and trade marks to offer
        self._tickers_seen: set[str] = set()  # this connection has a ticker for them
        self.marks_sent = 0
        self.bad_timestamps = 0

    def offer_books(
        self,
        changed: dict[OrderBook, Level2Frame],
        now_ns: int,
        received_ns: int,
        lag: LagMeter | None,
        read_wall_ns: int,
    ) -> None:
        """Offer the mid of each changed book that is due, then the waiting ticker and trade
        marks of the other symbols; empties ``changed``. With a ``lag`` meter, each changed
        book's latest frame also gives a lag sample (``read_wall_ns``: the batch's socket
        read on the wall clock), from the timestamp parsed once for both."""
        offer = self._marks.offer
        sent = self._sent
        fallbacks = self._fallbacks
        refresh_ns = self._refresh_ns
        offered = 0
        for book, frame in changed.items():
            event_ns: int | None = -1  # not parsed yet; None: not RFC 3339
            if lag is not None:
                event_ns = _event_ns(frame)
                if event_ns is not None:  # a bad one is counted and logged with its mark
                    lag.observe(read_wall_ns - event_ns)
            top = book.top()
            if top is None:
                continue
            symbol = book.product_id
            last = sent.get(symbol)
            if last is not None and last[0] == top and now_ns - last[1] < refresh_ns:
                continue
            sent[symbol] = (top, now_ns)
            if event_ns == -1:
                event_ns = _event_ns(frame)
            if event_ns is None:  # the mark is still good; its event time is not
                event_ns = self._bad_timestamp(frame)
            if fallbacks:
                fallbacks.pop(symbol, None)  # the book's mark replaces the ticker's
            offer(
                symbol, PendingMark(mid_of(*top), MarkSource.STREAM, event_ns, received_ns), now_ns
            )
            offered += 1
        changed.clear()
        self.marks_sent += offered
        if fallbacks:
            self.offer_fallbacks(now_ns)

    def offer_fallbacks(self, now_ns: int) -> None:
        """Offer the ticker and trade marks received since the last flush."""
        fallbacks = self._fallbacks
        offer = self._marks.offer
        for symbol, pending in fallbacks.items():
            offer(symbol, pending, now_ns)
        self.marks_sent += len(fallbacks)
        fallbacks.clear()

    @property
    def waiting(self) -> bool:
        """Whether ticker or trade marks wait for the next flush."""
        return bool(self._fallbacks)

    def on_ticker(self, frame: TickerFrame, books: LocalBooks, now_ns: int) -> None:
        for ticker in frame.tickers:
            symbol = ticker.product_id
            if not books.follows(symbol):
                continue
            if ticker.best_bid is not None and ticker.best_ask is not None:
                mark = (ticker.best_bid + ticker.best_ask) / _TWO
            else:
                mark = ticker.price
            self._tickers_seen.add(symbol)
            if not books.usable(symbol):
                self._fallback(symbol, mark, frame.ts_event_ns, now_ns)

    def on_trades(self, frame: MarketTradesFrame, books: LocalBooks, now_ns: int) -> None:
        for event in frame.events:
            for trade in event.trades:
                symbol = trade.product_id
                if (
                    books.follows(symbol)
                    and not books.usable(symbol)
                    and symbol not in self._tickers_seen  # the ticker's mid comes first
                ):
                    self._fallback(symbol, trade.price, trade.ts_trade_ns, now_ns)

    def forget_tickers(self) -> None:
        """The books were invalidated: trades give marks again until a ticker does."""
        self._tickers_seen.clear()

    def drop_waiting(self) -> None:
        """Forget the ticker and trade marks not offered yet (the translator went quiet)."""
        self._fallbacks.clear()

    def _fallback(self, symbol: str, mark: Decimal, ts_event_ns: int, now_ns: int) -> None:
        last = self._sent.get(symbol)
        if last is not None and last[0] == mark and now_ns - last[1] < self._refresh_ns:
            return
        self._sent[symbol] = (mark, now_ns)
        self._fallbacks[symbol] = PendingMark(mark, MarkSource.STREAM, ts_event_ns, now_ns)

    def _bad_timestamp(self, frame: Level2Frame) -> int:
        """Counts (and logs, sparsely) a level2 frame whose timestamp is not RFC 3339; the
        mark's event time is then now."""
        self.bad_timestamps += 1
        if self.bad_timestamps & (self.bad_timestamps - 1) == 0:  # 1, 2, 4, 8, ...
            _log.warning(
                "level2 frame #%d with a bad timestamp: %r", frame.sequence_num, frame.timestamp
            )
        return self._time_ns()


def _event_ns(frame: Level2Frame) -> int | None:
    """The frame's timestamp; None if it is not RFC 3339."""
    try:
        return frame.ts_event_ns
    except FrameDecodeError:
        return None
