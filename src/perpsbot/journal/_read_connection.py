"""The journal reader's connection: read-only (``mode=ro``), with the plumbing its queries
share (one snapshot for several queries, rows by name, the filters of a report)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from perpsbot.journal._schema import open_read_only, schema_version

__all__ = ["ReadConnection", "filters"]


class ReadConnection:
    """A read-only connection to the journal at ``path``; close it, or use it as a context
    manager. It belongs to the thread that opened it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_read_only(path)
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Run several queries on one snapshot of the file (a read transaction)."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
        return row


def filters(
    time_column: str, since_ns: int | None, symbol: str | None, *more: str
) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (or nothing) and its arguments: time, symbol and ``more`` conditions."""
    clauses, args = list(more), list[Any]()
    if since_ns is not None:
        clauses.append(f"{time_column} >= ?")
        args.append(since_ns)
    if symbol is not None:
        clauses.append("symbol = ?")
        args.append(symbol)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), tuple(args)
