"""The journal's writing connection: a batch of prepared events committed in one
transaction, and the counts :class:`~perpsbot.actors.JournalState` shows.

A message the database refuses on its own (a constraint) does not fail its batch: the batch
is committed again one message at a time, and what is refused comes back in the result. A
fill id already journaled with other facts is kept as stored, logged and counted.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from perpsbot.journal import (
    BatchResult,
    JournalStore,
    Prepared,
    open_for_writing,
    schema_version,
    set_synchronous,
    synchronous,
)

__all__ = ["JournalWriter"]

logger = logging.getLogger("perpsbot.actors.journal")

_SYNCHRONOUS = {0: "off", 1: "normal", 2: "full", 3: "extra"}


class JournalWriter:
    """The only writing connection to the journal (while open), and what it wrote so far."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._store: JournalStore | None = None
        self.stats = {
            "commits": 0,
            "events_written": 0,
            "duplicates_ignored": 0,
            "largest_batch": 0,
            "write_errors": 0,
            "rejected": 0,
            "fill_conflicts": 0,
        }

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def open(self, path: Path, *, synchronous: str, busy_timeout_s: float) -> None:
        self._db = open_for_writing(path, synchronous=synchronous, busy_timeout_s=busy_timeout_s)
        self._store = JournalStore(self._db)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._store = None

    def set_synchronous(self, value: str) -> None:
        if self._db is not None:
            set_synchronous(self._db, value)

    def synchronous(self) -> str | None:
        """``PRAGMA synchronous`` by name; None while closed."""
        return None if self._db is None else _SYNCHRONOUS[synchronous(self._db)]

    def schema_version(self) -> int | None:
        return None if self._db is None else schema_version(self._db)

    def write(self, batch: list[Prepared], *, actor: str) -> BatchResult:
        """Commit ``batch`` (raises with nothing stored, or returns what was stored)."""
        assert self._store is not None, "the journal's writer is not open"
        if not any(prepared.statements for prepared in batch):
            return BatchResult(events=0, ignored=0)  # only syncs: nothing more to commit
        try:
            result = self._store.commit(batch)
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError):
            # One message the database refuses must not fail the rest: one by one, then.
            result = self._store.commit(batch, one_by_one=True)
        stats = self.stats
        stats["commits"] += 1
        stats["events_written"] += result.events
        conflicts = result.conflicting_fills
        stats["duplicates_ignored"] += result.ignored - len(conflicts)
        stats["fill_conflicts"] += len(conflicts)
        for conflict in conflicts:
            logger.error(
                "%s: integrity error: %s; the stored fill is kept", actor, conflict.describe()
            )
        stats["largest_batch"] = max(stats["largest_batch"], result.events)
        return result
