"""The journal a backtest writes: held while the run writes it, one file once it is done.

A run's journal is new, so the backtest holds its lock (one writer, as for ``perpsbot run``)
and removes the lock file as it lets go. The journal actor writes in WAL mode; once the tree
has stopped (the journal actor commits what is queued and closes last), the finished journal
is set back to SQLite's rollback mode: a read-only reader (the report, ``perpsbot journal``)
then leaves no ``-wal`` and ``-shm`` files beside it, and the journal is one file to copy or
keep. A bot that writes it again puts it back in WAL mode.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from perpsbot.errors import BacktestError
from perpsbot.journal import JournalLock

__all__ = ["backtest_journal"]


@contextlib.contextmanager
def backtest_journal(journal: Path) -> Iterator[None]:
    """Hold ``journal`` while the block runs the tree; if the block ends without an error,
    leave the journal one file (rollback mode). The lock file is removed either way.

    Raises:
        JournalPathError, JournalInUseError: from taking the lock.
        BacktestError: the finished journal could not be set to rollback mode.
    """
    lock = JournalLock(journal)
    lock.acquire()
    try:
        yield
        _one_file(journal)
    finally:
        lock.release(remove=True)


def _one_file(journal: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(journal)) as db:
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.Error as error:
        raise BacktestError(
            f"the backtest's journal {journal} must close as one file, it could not: {error}"
        ) from error
    if mode != "delete":
        raise BacktestError(
            f"the backtest's journal {journal} must close in rollback mode, stayed in {mode!r}"
        )
