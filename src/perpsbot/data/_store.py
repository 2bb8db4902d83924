"""The candle store: one SQLite file of candles keyed by (product, granularity, start), and
the spans already asked of the venue.

SQLite (the standard library's): one file, atomic commits (a page of candles and the span it
covers commit together, so an interrupted download loses nothing stored), and a clustered
primary key (``WITHOUT ROWID``), so a backtest reads a product's candles in time order with
one range scan (:meth:`CandleStore.candles`). Prices and sizes are the venue's decimal
strings, read back as ``Decimal`` exactly.

The ``covered`` table remembers which spans the venue was asked for, gaps included: a minute
the venue has no candle for (no trades, not listed yet) is not asked again by a re-run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.errors import DataStoreError
from perpsbot.venue import Candle

__all__ = ["FORMAT_VERSION", "CandleStore", "StoredSeries"]

#: The store's format; a file of another version is refused, never rewritten.
FORMAT_VERSION = 1

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS candles (product_id TEXT NOT NULL, granularity TEXT NOT NULL,"
    " start_s INTEGER NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL,"
    " close TEXT NOT NULL, volume TEXT NOT NULL,"
    " PRIMARY KEY (product_id, granularity, start_s)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS covered (product_id TEXT NOT NULL, granularity TEXT NOT NULL,"
    " from_s INTEGER NOT NULL, to_s INTEGER NOT NULL,"
    " PRIMARY KEY (product_id, granularity, from_s)) WITHOUT ROWID",
)

Span = tuple[int, int]


@attrs.frozen(kw_only=True)
class StoredSeries:
    """What the store holds of one product at one granularity."""

    product_id: str
    granularity: str
    candles: int
    first_start_s: int | None
    last_start_s: int | None
    covered: tuple[Span, ...]


def _fmt(value: Decimal) -> str:
    return format(value, "f")


class CandleStore:
    """A candle store file, created (with its directory) if missing.

    Raises:
        DataStoreError: the file is not a candle store, of another format version, or
            cannot be created or opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise DataStoreError(f"candle store {path}: cannot open it: {error}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format_version', ?)",
                    (str(FORMAT_VERSION),),
                )
            (found,) = self._db.execute(
                "SELECT value FROM meta WHERE key = 'format_version'"
            ).fetchone()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise DataStoreError(
                f"candle store {path} must be a perpsbot candle store (SQLite): {error}"
            ) from None
        if found != str(FORMAT_VERSION):
            self._db.close()
            raise DataStoreError(
                f"candle store {path} must be of format version {FORMAT_VERSION}, is {found};"
                " download into another --store"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CandleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- spans ----------------------------------------------------------------------------

    def covered(self, product_id: str, granularity: str) -> list[Span]:
        """The spans ``[from_s, to_s)`` already asked of the venue, oldest first, disjoint."""
        rows = self._db.execute(
            "SELECT from_s, to_s FROM covered WHERE product_id = ? AND granularity = ?"
            " ORDER BY from_s",
            (product_id, granularity),
        )
        return [(int(a), int(b)) for a, b in rows]

    def missing(self, product_id: str, granularity: str, span: Span) -> list[Span]:
        """The parts of ``span`` not yet asked of the venue, oldest first."""
        start, end = span
        out: list[Span] = []
        for a, b in self.covered(product_id, granularity):
            if b <= start or a >= end:
                continue
            if a > start:
                out.append((start, a))
            start = max(start, b)
        if start < end:
            out.append((start, end))
        return out

    def save_page(
        self, product_id: str, granularity: str, candles: Iterable[Candle], span: Span | None
    ) -> None:
        """Store ``candles`` and mark ``span`` asked, in one transaction (a re-run replaces
        a candle it stored before: idempotent)."""
        rows = [
            (product_id, granularity, c.start_s, _fmt(c.open), _fmt(c.high), _fmt(c.low),
             _fmt(c.close), _fmt(c.volume))
            for c in candles
        ]  # fmt: skip
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO candles VALUES (?,?,?,?,?,?,?,?)", rows)
            if span is not None and span[0] < span[1]:
                self._cover(product_id, granularity, span)

    def _cover(self, product_id: str, granularity: str, span: Span) -> None:
        start, end = span
        key = (product_id, granularity)
        touching = self._db.execute(
            "SELECT from_s, to_s FROM covered WHERE product_id = ? AND granularity = ?"
            " AND to_s >= ? AND from_s <= ?",
            (*key, start, end),
        ).fetchall()
        for a, b in touching:
            start, end = min(start, a), max(end, b)
        self._db.execute(
            "DELETE FROM covered WHERE product_id = ? AND granularity = ? AND to_s >= ?"
            " AND from_s <= ?",
            (*key, span[0], span[1]),
        )
        self._db.execute("INSERT INTO covered VALUES (?, ?, ?, ?)", (*key, start, end))

    # --- reading --------------------------------------------------------------------------

    def candles(
        self, product_id: str, granularity: str, span: Span | None = None
    ) -> Iterator[Candle]:
        """The stored candles (starting in ``span`` if given), oldest first: one range scan
        of the primary key."""
        start, end = span if span is not None else (-(2**62), 2**62)
        rows = self._db.execute(
            "SELECT start_s, open, high, low, close, volume FROM candles WHERE product_id = ?"
            " AND granularity = ? AND start_s >= ? AND start_s < ? ORDER BY start_s",
            (product_id, granularity, start, end),
        )
        for start_s, o, h, lo, c, v in rows:
            yield Candle(
                start_s=start_s, open=Decimal(o), high=Decimal(h), low=Decimal(lo),
                close=Decimal(c), volume=Decimal(v),
            )  # fmt: skip

    def series(self) -> list[StoredSeries]:
        """Every (product, granularity) the store holds, with its counts and spans."""
        rows = self._db.execute(
            "SELECT product_id, granularity FROM covered UNION"
            " SELECT DISTINCT product_id, granularity FROM candles ORDER BY 1, 2"
        ).fetchall()
        out = []
        for product_id, granularity in rows:
            count, first, last = self._db.execute(
                "SELECT COUNT(*), MIN(start_s), MAX(start_s) FROM candles WHERE product_id = ?"
                " AND granularity = ?",
                (product_id, granularity),
            ).fetchone()
            out.append(
                StoredSeries(
                    product_id=product_id,
                    granularity=granularity,
                    candles=count,
                    first_start_s=first,
                    last_start_s=last,
                    covered=tuple(self.covered(product_id, granularity)),
                )
            )
        return out
