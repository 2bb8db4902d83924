"""Marks from the streams socket's ``book.*`` channels: each instrument's book kept from its
snapshot and its changes, its mid offered as a mark (docs/venues/global-derivatives.md 1.9).

Every change names the one before it (``prev_change_id``). A change that names another than
the last one applied is a gap: the book is dropped (no mark is offered from it) and its
channel is subscribed again, which brings a new snapshot. Runs on the socket's reader thread;
resubscribing runs on a thread of its own (a call waits for its answer on the reader thread).
The streamer runs it on ``venue.kind = "global"`` (the venue link's ``market_marks``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal

from perpsbot.clock import Clock
from perpsbot.errors import FrameDecodeError, VenueError
from perpsbot.messages import MarkSource, PendingMark
from perpsbot.venue.global_derivatives._codec import Notice
from perpsbot.venue.global_derivatives._socket import RpcSocket
from perpsbot.venue.global_derivatives.notices import decode_notice
from perpsbot.venue.global_derivatives.records import BookLevel, BookNotice
from perpsbot.venue.ratelimit import VenueRateLimiter

__all__ = ["GlobalBookMarks", "GlobalMarkFeed", "book_channels"]

_log = logging.getLogger("perpsbot.venue.global.marks")

#: Offers a mark: ``(instrument, mark, now_ns)`` (the mark window's coalescer's ``offer``).
Offer = Callable[[str, PendingMark, int], None]


def book_channels(symbols: Iterable[str]) -> list[str]:
    """The ``book`` channel of each instrument (changes batched every 100 ms)."""
    return [f"book.{symbol}.100ms" for symbol in sorted(symbols)]


class _Book:
    def __init__(self, notice: BookNotice) -> None:
        self.change_id = notice.change_id
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.apply(notice)

    def apply(self, notice: BookNotice) -> None:
        self.change_id = notice.change_id
        for side, levels in ((self.bids, notice.bids), (self.asks, notice.asks)):
            for level in levels:
                _apply_level(side, level)

    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        bid, ask = max(self.bids), min(self.asks)
        return (bid + ask) / 2 if bid < ask else None  # a crossed book says nothing


def _apply_level(side: dict[Decimal, Decimal], level: BookLevel) -> None:
    if level.action == "delete" or level.amount == 0:
        side.pop(level.price, None)
    else:
        side[level.price] = level.amount


class GlobalBookMarks:
    """The streams socket's ``on_notice`` for ``book.*`` notifications.

    Args:
        offer: where each book's mid goes, as a :class:`PendingMark` (``STREAM``).
        clock: stamps receive times.
        resubscribe: subscribes one channel again (after a gap), off the reader thread.
    """

    def __init__(self, *, offer: Offer, clock: Clock, resubscribe: Callable[[str], None]) -> None:
        self._offer = offer
        self._clock = clock
        self._resubscribe = resubscribe
        self._books: dict[str, _Book] = {}
        self.marks_sent = 0
        self.gaps = 0
        self.bad_notices = 0

    @property
    def books_ready(self) -> tuple[str, ...]:
        return tuple(sorted(self._books))

    def on_notice(self, notice: Notice) -> None:
        if not notice.channel.startswith("book."):
            return
        try:
            book = decode_notice(notice)
        except FrameDecodeError as exc:
            self.bad_notices += 1
            _log.warning("book: a notification left out: %s", exc)
            return
        if not isinstance(book, BookNotice):
            return
        name = book.instrument_name
        held = self._books.get(name)
        if book.type == "snapshot":
            held = self._books[name] = _Book(book)
        elif held is None:
            return  # changes before the snapshot (or after a gap): the snapshot is coming
        elif book.prev_change_id != held.change_id:
            self.gaps += 1
            del self._books[name]
            _log.warning(
                "book %s: change %s follows %s, not %s: subscribed again for a snapshot",
                name, book.change_id, book.prev_change_id, held.change_id,
            )  # fmt: skip
            self._resubscribe(notice.channel)
            return
        else:
            held.apply(book)
        mid = held.mid()
        if mid is not None:
            now_ns = self._clock.time_ns()
            mark = PendingMark(
                mark=mid,
                source=MarkSource.STREAM,
                ts_event_ns=book.timestamp * 1_000_000,
                ts_received_ns=now_ns,
            )
            self._offer(name, mark, now_ns)
            self.marks_sent += 1


class GlobalMarkFeed:
    """The ``book`` channels on a streams socket of their own, offering each instrument's mid.

    Args:
        url: the streams host's WebSocket.
        limiter: the venue's shared budget.
        clock: the bot's clock (receive times); ``real_clock`` bounds the socket's I/O.
        offer: where marks go.
        symbols: the instruments followed.
    """

    def __init__(
        self,
        *,
        url: str,
        limiter: VenueRateLimiter,
        clock: Clock,
        real_clock: Clock,
        offer: Offer,
        symbols: tuple[str, ...],
        timeout_s: float = 10.0,
    ) -> None:
        self.translator = GlobalBookMarks(offer=offer, clock=clock, resubscribe=self._again)
        self._socket = RpcSocket(
            url=url,
            signer=None,
            limiter=limiter,
            clock=real_clock,
            on_notice=self.translator.on_notice,
            timeout_s=timeout_s,
        )
        self._socket.subscribe(book_channels(symbols))
        self._symbols = tuple(sorted(symbols))

    @property
    def healthy(self) -> bool:
        """Connected, subscribed, and every instrument's book held (after a gap, only once
        its new snapshot came)."""
        return self._socket.ready and self.translator.books_ready == self._symbols

    @property
    def detail(self) -> str:
        """Why it is not healthy (empty if it is)."""
        if not self._socket.ready:
            error = self._socket.setup_error or self._socket.last_error
            why = f": {error}" if error else ""
            return f"streams socket not ready ({self._socket.reconnects} reconnects){why}"
        missing = sorted(set(self._symbols) - set(self.translator.books_ready))
        return f"awaiting the book snapshot of {', '.join(missing)}" if missing else ""

    @property
    def marks_sent(self) -> int:
        return self.translator.marks_sent

    @property
    def books_ready(self) -> tuple[str, ...]:
        return self.translator.books_ready

    @property
    def reconnects(self) -> int:
        return self._socket.reconnects

    def start(self) -> GlobalMarkFeed:
        self._socket.start()
        return self

    def wait_ready(self, timeout_s: float) -> bool:
        return self._socket.wait_ready(timeout_s)

    def stop(self) -> None:
        self._socket.stop()

    def _again(self, channel: str) -> None:
        threading.Thread(
            target=self._resubscribe, args=(channel,), name="perpsbot-global-resubscribe",
            daemon=True,
        ).start()  # fmt: skip

    def _resubscribe(self, channel: str) -> None:
        try:
            self._socket.call("public/unsubscribe", {"channels": [channel]})
            self._socket.subscribe([channel])
        except VenueError as exc:  # the socket is replaced: its resubscription brings one
            _log.warning("book: subscribing %s again failed: %s", channel, exc)
