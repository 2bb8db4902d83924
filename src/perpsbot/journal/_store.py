"""The writer's side of the journal: prepared rows, one transaction per batch.

Messages are turned into rows when they arrive (:meth:`JournalStore.prepare`, where a malformed
message is refused on its own) and written in batches (:meth:`JournalStore.commit`): every row
of a batch in one transaction, grouped into one ``executemany`` per statement. A batch that
fails is rolled back whole and may be committed again later; its sequence numbers are only
taken once it commits.

A fill is stored once by its venue id: the same fill again is a no-op, but a fill whose id is
stored with other facts (another order, price, size, fee...) is an integrity error the batch
reports (:attr:`BatchResult.conflicting_fills`); the stored fill stays as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from perpsbot.journal._rows import INTENTS, ORDERS_UPSERT, TABLES, Row
from perpsbot.journal._schema import EVENT_TABLES
from perpsbot.messages import OrderFilled, OrderUpdated, RecordIntent, RiskSnapshot

__all__ = ["BatchResult", "FillConflict", "JournalStore", "Prepared", "RiskSnapshotFilter"]

_INTENT_INSERT = INTENTS.insert
_INSERTS: dict[type, tuple[str, ...]] = {
    kind: (table.insert, ORDERS_UPSERT) if kind is OrderUpdated else (table.insert,)
    for kind, table in TABLES.items()
}
_IGNORING = frozenset(
    [_INTENT_INSERT, *(table.insert for table in TABLES.values() if table.on_conflict_ignore)]
)
_FILL_INSERT = TABLES[OrderFilled].insert
_FILL_COLUMN = {name: i for i, name in enumerate(TABLES[OrderFilled].columns)}
#: What makes a fill the fill it is, as the venue reports it (its message id, times, intent
#: and purpose are the bot's and may differ between reports of one fill); numbers compare as
#: numbers ("0.10" is "0.1").
_FILL_FACTS = (
    "client_order_id", "venue_order_id", "symbol", "side", "price", "size", "fee",
    "contract_size",
)  # fmt: skip
_FILL_NUMBERS = frozenset({"price", "size", "fee", "contract_size"})


@attrs.frozen
class Prepared:
    """One message with its row, ready to be written (no statements: a marker, e.g. a sync)."""

    message: Any
    statements: tuple[str, ...] = ()
    row: Row = ()


@attrs.frozen(kw_only=True)
class FillConflict:
    """A fill whose id the journal holds with other facts: an integrity error."""

    fill_id: str
    differences: tuple[tuple[str, str, str], ...]
    """``(column, stored, found)`` for each fact that differs."""

    def describe(self) -> str:
        found = ", ".join(
            f"{name} {stored} stored, {new} found" for name, stored, new in self.differences
        )
        return f"fill {self.fill_id} is journaled with other facts: {found}"


@attrs.frozen(kw_only=True)
class BatchResult:
    """What one committed batch did."""

    events: int
    """Messages written (markers excluded), duplicates included."""
    ignored: int
    """Rows skipped because their unique key was stored already (a replayed fill), conflicting
    fills included."""
    conflicting_fills: tuple[FillConflict, ...] = ()
    """Fills NOT recorded: their id is stored (or earlier in the batch) with other facts."""
    conflicting_intents: frozenset[str] = frozenset()
    """Intent ids NOT recorded: their client order id belongs to another intent."""
    rejected: tuple[tuple[Any, sqlite3.Error], ...] = ()
    """Messages the database refused on their own (only when committing one by one)."""
    repeated: frozenset[int] = frozenset()
    """``id()`` of each ``RecordIntent`` whose intent was stored already (by an earlier batch,
    an earlier run, or earlier in this batch)."""


#: Host parameters per query, well under SQLite's lowest limit (999 before 3.32).
_MAX_PARAMETERS = 500


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
            row = INTENTS.encode(
                message.intent,
                client_order_id=message.client_order_id,
                ts_recorded_ns=message.ts_created_ns,
            )
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
            repeated = self._repeated_intents(batch)
            conflicting_fills = self._conflicting_fills(batch)
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
            repeated=repeated,
            conflicting_fills=conflicting_fills,
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

    def _repeated_intents(self, batch: Sequence[Prepared]) -> frozenset[int]:
        """``id()`` of the ``RecordIntent`` messages of ``batch`` whose intent is stored already
        or comes earlier in ``batch`` (read before the batch writes anything)."""
        records = [p.message for p in batch if type(p.message) is RecordIntent]
        if not records:
            return frozenset()
        wanted = sorted({m.intent.intent_id for m in records})
        seen: set[str] = set()
        for start in range(0, len(wanted), _MAX_PARAMETERS):
            chunk = wanted[start : start + _MAX_PARAMETERS]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT intent_id FROM intents WHERE intent_id IN ({marks})"
            seen.update(row[0] for row in self._db.execute(query, chunk))
        repeated = set()
        for message in records:
            if message.intent.intent_id in seen:
                repeated.add(id(message))
            seen.add(message.intent.intent_id)
        return frozenset(repeated)

    def _conflicting_fills(self, batch: Sequence[Prepared]) -> tuple[FillConflict, ...]:
        """The fills of ``batch`` whose id is stored, or comes earlier in ``batch``, with other
        facts (read before the batch writes anything)."""
        rows = [p.row for p in batch if _FILL_INSERT in p.statements]
        if not rows:
            return ()
        facts: dict[str, Row] = {}
        fill_id = _FILL_COLUMN["fill_id"]
        wanted = sorted({row[fill_id] for row in rows})
        columns = ", ".join(_FILL_FACTS)
        for start in range(0, len(wanted), _MAX_PARAMETERS):
            chunk = wanted[start : start + _MAX_PARAMETERS]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT fill_id, {columns} FROM fills WHERE fill_id IN ({marks})"
            facts.update((row[0], row[1:]) for row in self._db.execute(query, chunk))
        conflicts = []
        for row in rows:
            found = tuple(row[_FILL_COLUMN[name]] for name in _FILL_FACTS)
            stored = facts.setdefault(row[fill_id], found)
            differences = tuple(
                (name, str(old), str(new))
                for name, old, new in zip(_FILL_FACTS, stored, found, strict=True)
                if not _same(name, old, new)
            )
            if differences:
                conflicts.append(FillConflict(fill_id=row[fill_id], differences=differences))
        return tuple(conflicts)

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


def _same(name: str, stored: object, found: object) -> bool:
    if name in _FILL_NUMBERS:
        try:
            return Decimal(str(stored)) == Decimal(str(found))
        except InvalidOperation:
            pass
    return stored == found


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
