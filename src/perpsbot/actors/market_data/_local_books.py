"""The feed thread's level2 books: what a frame changes, which books are usable, and whether
the ticker and trades are of any use.

Owned by the mark translator, touched only on the feed thread. A book is ready from its
snapshot on; updates that arrive before it cannot be applied and are dropped. While every
book is ready the ticker and market trades give no mark, so the feed is asked to pause them
(``WebSocketFeed.pause``, or ``skip_undecoded`` while it is recorded); a gap or a lost
connection invalidates every book and has them received and decoded again, so ticker marks
cover the resync.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from perpsbot.venue import Level2Frame, OrderBook

__all__ = ["LocalBooks"]

#: The channels that give no mark while every book is ready.
_UNUSED_WHILE_BOOKS_READY = ("ticker", "market_trades")


class LocalBooks:
    """One connection's books, which of them changed since the last flush, and the skip
    decision that follows from their readiness.

    ``changed`` maps each book changed since the translator's last flush to the latest frame
    that changed it (its timestamp is the mark's event time); the flush empties it.
    """

    __slots__ = ("_all_ready", "_books", "_pause", "_resyncing", "changed")

    def __init__(self, symbols: tuple[str, ...]) -> None:
        self._books = {symbol: OrderBook(symbol) for symbol in symbols}
        self.changed: dict[OrderBook, Level2Frame] = {}
        self._all_ready = False  # every book is ready: ticker and trades are paused
        self._resyncing = False  # a gap made the books unusable; not all ready again yet
        self._pause: Callable[[Collection[str]], None] | None = None

    def bind(self, pause: Callable[[Collection[str]], None] | None) -> None:
        """How to tell the feed which channels are of no use now (None: receive all)."""
        self._pause = pause

    def apply(self, frame: Level2Frame) -> bool:
        """Apply ``frame`` to the books it concerns. True when it made every book ready again
        after a gap (:meth:`resync`): the market data has resumed."""
        books = self._books
        changed = self.changed
        for event in frame.events:
            book = books.get(event.product_id)
            if book is not None and (book.ready or event.type == "snapshot"):
                book.apply(event)  # updates before the (re)snapshot cannot be applied
                changed[book] = frame
        return not self._all_ready and self._became_ready()

    def follows(self, symbol: str) -> bool:
        return symbol in self._books

    def usable(self, symbol: str) -> bool:
        """Whether ``symbol``'s book gives its mark (else the ticker or trades may)."""
        return self._books[symbol].ready

    def ready_symbols(self) -> tuple[str, ...]:
        return tuple(sorted(symbol for symbol, book in self._books.items() if book.ready))

    def resync(self) -> None:
        """A sequence gap: every book is unusable until its next snapshot."""
        self.invalidate()
        self._resyncing = True

    def invalidate(self) -> None:
        """Forget every book (a gap, a lost connection): each is ready at its next snapshot."""
        self._all_ready = False
        self._skip(())  # a mark may come from the ticker and trades again
        self.changed.clear()
        for book in self._books.values():
            book.invalidate()

    def _became_ready(self) -> bool:
        if not all(book.ready for book in self._books.values()):
            return False
        self._all_ready = True
        self._skip(_UNUSED_WHILE_BOOKS_READY)
        resumed = self._resyncing
        self._resyncing = False
        return resumed

    def _skip(self, channels: tuple[str, ...]) -> None:
        if self._pause is not None:
            self._pause(channels)
