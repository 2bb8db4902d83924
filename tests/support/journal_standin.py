"""A minimal journal for the executor's tests: a real SQLite file, one writer actor.

Its reader answers the queries the executor and its tests use with the names and shapes of
the journal's ``JournalReader``, so the tests run unchanged on the real journal.

It honours the journal's contract with the executor (``RecordIntent`` -> ``IntentRecorded``
after the commit, ``SyncJournal`` -> ``JournalSynced``) and keeps what the executor's startup
reconciliation reads back through :class:`StandInReader` (the ``JournalView`` queries). It
commits every message at once: no batching, which is the real journal's business.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from perpsbot.messages import (
    DryRunOrder,
    IntentRecorded,
    JournalSynced,
    OrderFilled,
    OrderIntent,
    OrderUpdated,
    PositionChanged,
    RecordIntent,
    Stamper,
    SyncJournal,
)
from perpsbot.runtime import ActorContext, BaseActor

_SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
    seq INTEGER PRIMARY KEY, intent_id TEXT UNIQUE, client_order_id TEXT, intent BLOB);
CREATE TABLE IF NOT EXISTS orders (client_order_id TEXT PRIMARY KEY, status TEXT, last BLOB);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY, client_order_id TEXT, message BLOB);
CREATE TABLE IF NOT EXISTS fills (fill_id TEXT PRIMARY KEY, client_order_id TEXT, fill BLOB);
CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, message BLOB);
CREATE TABLE IF NOT EXISTS dry_runs (seq INTEGER PRIMARY KEY, message BLOB);
"""


class StandInJournal(BaseActor):
    """Stores intents, order transitions, fills, positions and dry-run orders."""

    def __init__(self, *, context: ActorContext, path: Path) -> None:
        super().__init__(context=context)
        self._path = path
        self._stamper = Stamper(context.clock, context.ids)
        self._db: sqlite3.Connection | None = None

    def on_start(self) -> None:
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def on_stop(self) -> None:
        if self._db is not None:
            self._db.close()

    def _write(self, sql: str, *args: Any) -> int:
        assert self._db is not None
        return self._db.execute(sql, args).rowcount

    def on_receive(self, message: Any) -> None:
        match message:
            case RecordIntent(intent=intent, client_order_id=coid):
                new = self._write(
                    "INSERT OR IGNORE INTO intents(intent_id, client_order_id, intent)"
                    " VALUES (?, ?, ?)",
                    intent.intent_id, coid, pickle.dumps(intent),
                )  # fmt: skip
                message_id, ts = self._stamper.stamp()
                message.reply_to.tell(
                    IntentRecorded(
                        message_id=message_id, ts_created_ns=ts,
                        correlation_id=message.message_id, intent_id=intent.intent_id,
                        client_order_id=coid, previously_recorded=new == 0,
                    )
                )  # fmt: skip
            case SyncJournal():
                message_id, ts = self._stamper.stamp()
                message.reply_to.tell(
                    JournalSynced(
                        message_id=message_id, ts_created_ns=ts, correlation_id=message.message_id
                    )
                )
            case OrderUpdated(client_order_id=coid):
                blob = pickle.dumps(message)
                self._write(
                    "INSERT OR REPLACE INTO orders VALUES (?, ?, ?)", coid, message.status, blob
                )
                self._write("INSERT INTO transitions(client_order_id, message) VALUES (?, ?)",
                            coid, blob)  # fmt: skip
            case OrderFilled(fill_id=fill_id, client_order_id=coid):
                self._write(
                    "INSERT OR IGNORE INTO fills VALUES (?, ?, ?)", fill_id, coid,
                    pickle.dumps(message),
                )  # fmt: skip
            case PositionChanged(position=position):
                self._write(
                    "INSERT OR REPLACE INTO positions VALUES (?, ?)", position.symbol,
                    pickle.dumps(message),
                )  # fmt: skip
            case DryRunOrder():
                self._write("INSERT INTO dry_runs(message) VALUES (?)", pickle.dumps(message))
            case _:
                pass  # the real journal stores every event; this stand-in needs only these


@attrs.frozen(kw_only=True)
class StandInIntent:
    intent: OrderIntent
    client_order_id: str
    order: OrderUpdated | None


class StandInReader:
    """Read-only queries on a :class:`StandInJournal` file (the executor's ``JournalView``)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StandInReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _rows(self, sql: str, *args: Any) -> list[Any]:
        return self._db.execute(sql, args).fetchall()

    def unfinished_intents(self) -> list[StandInIntent]:
        out = []
        for coid, blob in self._rows("SELECT client_order_id, intent FROM intents ORDER BY seq"):
            order = self.order(coid)
            if order is None or not order.status.terminal:
                out.append(StandInIntent(intent=pickle.loads(blob), client_order_id=coid,
                                         order=order))  # fmt: skip
        return out

    def fill_ids(self, client_order_id: str | None = None) -> frozenset[str]:
        if client_order_id is None:
            return frozenset(r[0] for r in self._rows("SELECT fill_id FROM fills"))
        rows = self._rows("SELECT fill_id FROM fills WHERE client_order_id = ?", client_order_id)
        return frozenset(r[0] for r in rows)

    def latest_positions(self) -> Mapping[str, PositionChanged]:
        return {s: pickle.loads(b) for s, b in self._rows("SELECT symbol, message FROM positions")}

    # -- for assertions --------------------------------------------------------------------

    def order(self, client_order_id: str) -> OrderUpdated | None:
        rows = self._rows("SELECT last FROM orders WHERE client_order_id = ?", client_order_id)
        return pickle.loads(rows[0][0]) if rows else None

    def intent(self, intent_id: str) -> StandInIntent | None:
        rows = self._rows(
            "SELECT client_order_id, intent FROM intents WHERE intent_id = ?", intent_id
        )
        if not rows:
            return None
        coid, blob = rows[0]
        return StandInIntent(
            intent=pickle.loads(blob), client_order_id=coid, order=self.order(coid)
        )

    def dry_run_orders(self) -> list[DryRunOrder]:
        return [pickle.loads(r[0]) for r in self._rows("SELECT message FROM dry_runs ORDER BY seq")]
