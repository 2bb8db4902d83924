"""The writer's side of the journal: prepared rows, one transaction per batch.

Messages are turned into rows when they arrive (:meth:`JournalStore.prepare`, where a malformed
message is refused on its own) and written in batches (:meth:`JournalStore.commit`): every row
of a batch in one transaction, grouped into one ``executemany`` per statement. A batch that
fails is rolled back whole and may be committed again later; its sequence numbers are only
taken once it commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import attrs

from perpsbot.journal._rows import INTENTS, ORDERS_UPSERT, TABLES, Row, intent_row
from perpsbot.journal._schema import EVENT_TABLES
from perpsbot.messages import OrderUpdated, RecordIntent, RiskSnapshot

__all__ = ["BatchResult", "JournalStore", "Prepared", "RiskSnapshotFilter"]

_INTENT_INSERT = INTENTS.insert
_INSERTS: dict[type, tuple[str, ...]] = {
    kind: (table.insert, ORDERS_UPSERT) if kind is OrderUpdated else (table.insert,)
    for kind, table in TABLES.items()
}
_IGNORING = frozenset(
    [_INTENT_INSERT, *(table.insert for table in TABLES.values() if table.on_conflict_ignore)]
)


@attrs.frozen
class Prepared:
    """One message with its row, ready to be written (no statements: a marker, e.g. a sync)."""

    message: Any
    statements: tuple[str, ...] = ()
    row: Row = ()


@attrs.frozen(kw_only=True)
class BatchResult:
    """What one committed batch did."""

    events: int
    """Messages written (markers excluded), duplicates included."""
    ignored: int
    """Rows skipped because their unique key was stored already (a replayed fill)."""
    conflicting_intents: frozenset[str] = frozenset()
    """Intent ids NOT recorded: their client order id belongs to another intent."""
    rejected: tuple[tuple[Any, sqlite3.Error], ...] = ()
    """Messages the database refused on their own (only when committing one by one)."""


class JournalStore:
    """Writes prepared batches on the writer's connection; only the writer's thread uses it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._next_seq = 1 + max(
            connection.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {t}").fetchone()[0]
            for t in EVENT_TABLES
        )

    @staticmethod
    def prepare(message: Any) -> Prepared:
        """The row of ``message`` (a journaled event or a :class:`RecordIntent`).

        Raises:
            KeyError: the class is not journaled.
            AttributeError, TypeError, ValueError: a field does not have the declared type.
        """
        if type(message) is RecordIntent:
            row = intent_row(message.intent, message.client_order_id, message.ts_created_ns)
            return Prepared(message, (_INTENT_INSERT,), row)
        return Prepared(message, _INSERTS[type(message)], TABLES[type(message)].encode(message))

    def commit(self, batch: Sequence[Prepared], *, one_by_one: bool = False) -> BatchResult:
        """Write ``batch`` in one transaction and commit it.

        With ``one_by_one`` each message is written under its own savepoint, so a message the
        database refuses (a constraint) is left out and reported instead of failing the batch.

        Raises:
            sqlite3.Error: nothing of the batch was stored (rolled back).
        """
        seq = self._next_seq
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if one_by_one:
                seq, ignored, rejected = self._write_each(batch, seq)
            else:
                seq, ignored = self._write_grouped(batch, seq)
                rejected = []
            conflicts = self._conflicting_intents(batch, rejected) if ignored else frozenset()
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._next_seq = seq
        events = sum(1 for p in batch if p.statements) - len(rejected)
        return BatchResult(
            events=events,
            ignored=ignored,
            conflicting_intents=conflicts,
            rejected=tuple(rejected),
        )

    def _write_grouped(self, batch: Sequence[Prepared], seq: int) -> tuple[int, int]:
        groups: dict[str, list[Row]] = {}
        for prepared in batch:
            if prepared.statements:
                row = (seq, *prepared.row)
                seq += 1
                for statement in prepared.statements:
                    groups.setdefault(statement, []).append(row)
        ignored = 0
        executemany = self._db.executemany
        for statement, rows in groups.items():
            cursor = executemany(statement, rows)
            if statement in _IGNORING:
                ignored += len(rows) - cursor.rowcount
        return seq, ignored

    def _write_each(
        self, batch: Sequence[Prepared], seq: int
    ) -> tuple[int, int, list[tuple[Any, sqlite3.Error]]]:
        ignored = 0
        rejected: list[tuple[Any, sqlite3.Error]] = []
        execute = self._db.execute
        for prepared in batch:
            if not prepared.statements:
                continue
            row = (seq, *prepared.row)
            execute("SAVEPOINT one")
            try:
                for statement in prepared.statements:
                    cursor = execute(statement, row)
                    if statement in _IGNORING:
                        ignored += 1 - cursor.rowcount
            except (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError) as e:
                execute("ROLLBACK TO one")
                rejected.append((prepared.message, e))
            else:
                seq += 1
            execute("RELEASE one")
        return seq, ignored, rejected

    def _conflicting_intents(
        self, batch: Sequence[Prepared], rejected: list[tuple[Any, sqlite3.Error]]
    ) -> frozenset[str]:
        """Intents of ``batch`` whose row was skipped because another intent holds their
        client order id (recording the same intent twice is no conflict)."""
        refused = {id(message) for message, _ in rejected}
        conflicts = set()
        for prepared in batch:
            message = prepared.message
            if type(message) is RecordIntent and id(message) not in refused:
                stored = self._db.execute(
                    "SELECT client_order_id FROM intents WHERE intent_id = ?",
                    (message.intent.intent_id,),
                ).fetchone()
                if stored is None or stored[0] != message.client_order_id:
                    conflicts.add(message.intent.intent_id)
        return frozenset(conflicts)


class RiskSnapshotFilter:
    """Keeps at most one risk snapshot per ``interval_ns`` of their own timestamps, plus every
    snapshot whose trading state or reasons differ from the one before it."""

    def __init__(self, interval_ns: int) -> None:
        self.interval_ns = interval_ns
        self._last_kept_ns: int | None = None
        self._last_state: tuple[str, tuple[str, ...]] | None = None

    def keep(self, snapshot: RiskSnapshot) -> bool:
        """Whether to journal ``snapshot`` (call once per snapshot, in order)."""
        state = (snapshot.state.value, snapshot.reasons)
        changed, self._last_state = state != self._last_state, state
        due = (
            self._last_kept_ns is None
            or snapshot.ts_created_ns - self._last_kept_ns >= self.interval_ns
        )
        if changed or due:
            self._last_kept_ns = snapshot.ts_created_ns
            return True
        return False
