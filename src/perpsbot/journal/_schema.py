"""The journal's SQLite schema: ordered migrations, opening for writing and for reading.

The schema version is SQLite's ``user_version``. ``MIGRATIONS[i]`` takes a file from version
``i`` to ``i + 1``; opening an older file for writing applies the missing ones, each in its own
transaction. A file newer than this code knows is refused, never touched.

Every event table has ``seq``, the journal's own sequence number (its rowid): the order the
events were journaled in, across tables. Money and sizes are stored as ``Decimal`` text, so
nothing is rounded through a float. Each index costs every write of its table, so there are
only those the writer needs (uniqueness) or a start-up query reads often.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from perpsbot._paths import shown
from perpsbot.errors import JournalFormatError, JournalNotFoundError, JournalSchemaError
from perpsbot.journal._lock import create_journal_file

__all__ = [
    "EVENT_TABLES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "open_for_writing",
    "open_read_only",
    "schema_version",
    "set_synchronous",
    "synchronous",
]

_V1 = (
    """CREATE TABLE intents (
        seq INTEGER PRIMARY KEY,
        intent_id TEXT NOT NULL UNIQUE,
        client_order_id TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        order_type TEXT NOT NULL,
        limit_price TEXT,
        time_in_force TEXT NOT NULL,
        post_only INTEGER NOT NULL,
        purpose TEXT NOT NULL,
        leverage TEXT,
        reference_mark TEXT NOT NULL,
        reason TEXT NOT NULL,
        valid_until_ns INTEGER NOT NULL,
        ts_recorded_ns INTEGER NOT NULL
    )""",
    """CREATE TABLE order_transitions (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        intent_id TEXT NOT NULL,
        venue_order_id TEXT,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        purpose TEXT NOT NULL,
        order_type TEXT NOT NULL,
        size TEXT NOT NULL,
        limit_price TEXT,
        filled_size TEXT NOT NULL,
        average_fill_price TEXT,
        previous TEXT,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    # The latest transition of each order, kept by an upsert in the same transaction.
    """CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        intent_id TEXT NOT NULL,
        venue_order_id TEXT,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        purpose TEXT NOT NULL,
        order_type TEXT NOT NULL,
        size TEXT NOT NULL,
        limit_price TEXT,
        filled_size TEXT NOT NULL,
        average_fill_price TEXT,
        previous TEXT,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE fills (
        seq INTEGER PRIMARY KEY,
        fill_id TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        intent_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        venue_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        size TEXT NOT NULL,
        fee TEXT NOT NULL,
        contract_size TEXT NOT NULL,
        liquidity TEXT NOT NULL,
        purpose TEXT NOT NULL,
        ts_event_ns INTEGER NOT NULL
    )""",
    """CREATE TABLE positions (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT,
        cause TEXT NOT NULL,
        symbol TEXT NOT NULL,
        quantity TEXT NOT NULL,
        average_entry_price TEXT,
        contract_size TEXT NOT NULL,
        mark TEXT,
        realized_pnl TEXT NOT NULL,
        unrealized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL,
        funding TEXT NOT NULL,
        entry_fill_price TEXT
    )""",
    "CREATE INDEX positions_by_symbol ON positions (symbol, seq)",
    """CREATE TABLE trading_states (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        state TEXT NOT NULL,
        previous TEXT,
        reason TEXT NOT NULL,
        reasons TEXT NOT NULL
    )""",
    """CREATE TABLE operator_commands (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        command TEXT NOT NULL,
        reason TEXT NOT NULL,
        operator TEXT NOT NULL
    )""",
    """CREATE TABLE denials (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        intent_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        denied_by TEXT NOT NULL
    )""",
    """CREATE TABLE dry_run_orders (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        intent_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        request TEXT NOT NULL
    )""",
    """CREATE TABLE reconciliations (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('started', 'completed')),
        reason TEXT NOT NULL,
        success INTEGER,
        startup INTEGER,
        corrections TEXT NOT NULL,
        error TEXT NOT NULL
    )""",
    """CREATE TABLE accounts (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        equity TEXT,
        liquidation_buffer_pct TEXT,
        startup INTEGER NOT NULL,
        positions TEXT NOT NULL
    )""",
    """CREATE TABLE funding (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        amount TEXT NOT NULL,
        ts_event_ns INTEGER NOT NULL,
        UNIQUE (symbol, ts_event_ns)
    )""",
    """CREATE TABLE risk_snapshots (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        cycle INTEGER NOT NULL,
        state TEXT NOT NULL,
        reasons TEXT NOT NULL,
        equity TEXT,
        realized_pnl TEXT NOT NULL,
        unrealized_pnl TEXT NOT NULL,
        daily_pnl TEXT NOT NULL,
        exposure TEXT NOT NULL,
        positions TEXT NOT NULL
    )""",
    """CREATE TABLE config_reloads (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        source TEXT NOT NULL,
        changed_keys TEXT NOT NULL,
        restarted TEXT NOT NULL,
        notified TEXT NOT NULL,
        error TEXT NOT NULL
    )""",
    """CREATE TABLE operator_audit (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        operator TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        outcome TEXT NOT NULL
    )""",
)

_V2 = (
    # A restarted executor sums the fills of every finished order to find those whose fills
    # lag behind the filled size journaled with it (the process died before reading them).
    "CREATE INDEX fills_by_order ON fills (client_order_id)",
)

_V3 = (
    # Where each symbol's trailing stop is (its peak), so a new process trails from it.
    """CREATE TABLE trailing_stops (
        seq INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        ts_created_ns INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        long INTEGER NOT NULL,
        peak TEXT,
        average_entry TEXT
    )""",
    "CREATE INDEX trailing_stops_by_symbol ON trailing_stops (symbol, seq)",
)

#: ``MIGRATIONS[i]`` takes a file from schema version ``i`` to ``i + 1``. Append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)

#: The tables holding events, each with its ``seq`` (the journal's order of events).
EVENT_TABLES = (
    "intents",
    "order_transitions",
    "fills",
    "positions",
    "trading_states",
    "operator_commands",
    "denials",
    "dry_run_orders",
    "reconciliations",
    "accounts",
    "funding",
    "risk_snapshots",
    "config_reloads",
    "operator_audit",
    "trailing_stops",
)


def open_for_writing(
    path: Path,
    *,
    synchronous: str,
    busy_timeout_s: float,
    migrations: tuple[tuple[str, ...], ...] = MIGRATIONS,
) -> sqlite3.Connection:
    """Open (creating it 0600 and its directory 0700 if needed) the journal at ``path`` for its
    single writer: WAL, ``synchronous`` (``normal`` or ``full``; ``off`` only for a disposable
    journal, a backtest's: nothing is ever synced to disk, so a crash of the machine may
    corrupt it), migrated to the newest schema. Opening takes no lock: the process that writes
    holds a :class:`JournalLock` on ``path``.

    Transactions are explicit (``BEGIN``/``COMMIT``): the connection is in autocommit mode.

    Raises:
        JournalPathError: ``path`` is not a regular file, or cannot be created.
        JournalSchemaError: the file's schema is newer than ``migrations`` know.
        sqlite3.Error: the file could not be opened or is not a database.
    """
    create_journal_file(path)
    connection = sqlite3.connect(
        path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=True
    )
    try:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise JournalSchemaError(
                f"journal {shown(path)} must be in WAL mode, SQLite kept it in '{mode}' mode"
            )
        connection.execute(f"PRAGMA synchronous={_synchronous(synchronous)}")
        _migrate(connection, path, migrations)
    except BaseException:
        connection.close()
        raise
    return connection


def set_synchronous(connection: sqlite3.Connection, synchronous: str) -> None:
    """Change the durability of later commits on a writer's connection."""
    connection.execute(f"PRAGMA synchronous={_synchronous(synchronous)}")


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open the journal at ``path`` read-only (``mode=ro``); it may be written meanwhile (WAL).

    Raises:
        JournalNotFoundError: there is no file at ``path``.
        JournalFormatError: the file is not an SQLite database.
        JournalSchemaError: its schema is not the one this code reads (a reader cannot migrate).
    """
    if not path.is_file():
        raise JournalNotFoundError(
            f"journal file {shown(path)} must exist to be read, found nothing"
        )
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
    )
    try:
        try:
            version = schema_version(connection)
        except sqlite3.DatabaseError as error:  # "file is not a database", a torn header
            raise JournalFormatError(
                f"journal file {shown(path)} must be a perpsbot journal (an SQLite database),"
                f" was not one ({error})"
            ) from None
        if version != SCHEMA_VERSION:
            raise JournalSchemaError(
                f"journal {shown(path)} has schema version {version}, this perpsbot reads version "
                f"{SCHEMA_VERSION}; "
                + (
                    "upgrade perpsbot to read it"
                    if version > SCHEMA_VERSION
                    else "start the bot on it once to migrate it"
                )
            )
    except BaseException:
        connection.close()
        raise
    return connection


def synchronous(connection: sqlite3.Connection) -> int:
    """The connection's ``PRAGMA synchronous`` (0 OFF, 1 NORMAL, 2 FULL)."""
    value: int = connection.execute("PRAGMA synchronous").fetchone()[0]
    return value


def schema_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def _synchronous(value: str) -> str:
    if value not in ("off", "normal", "full"):
        raise ValueError(f"journal synchronous must be 'off', 'normal' or 'full', was {value!r}")
    return value.upper()


def _migrate(
    connection: sqlite3.Connection, path: Path, migrations: tuple[tuple[str, ...], ...]
) -> None:
    version = schema_version(connection)
    if version > len(migrations):
        raise JournalSchemaError(
            f"journal {shown(path)} has schema version {version}, newer than this perpsbot knows "
            f"(up to {len(migrations)}); upgrade perpsbot or point journal.path elsewhere"
        )
    for target in range(version + 1, len(migrations) + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in migrations[target - 1]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={target}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
