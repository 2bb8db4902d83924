"""The bot's SQLite journal: schema and migrations, the writer's store, the read-only reader.

The :class:`~perpsbot.actors.journal.JournalActor` is the only writer (through
:class:`JournalStore`), in the one process that holds the journal's :class:`JournalLock`;
everyone else reads with a :class:`JournalReader`, which opens the file read-only, takes no
lock and works while the bot runs. ``perpsbot journal`` (:mod:`perpsbot.journal.cli`)
prints its trades, fills, PnL and trading-state changes.
"""

from perpsbot.journal._lock import JournalLock, JournalLocks
from perpsbot.journal._pnl import PnlLine, PnlReport, funding_moves, pnl_from
from perpsbot.journal._reader import JournalReader, RecordedIntent, Trade
from perpsbot.journal._schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    open_for_writing,
    schema_version,
    set_synchronous,
    synchronous,
)
from perpsbot.journal._store import (
    BatchResult,
    FillConflict,
    JournalStore,
    Prepared,
    RiskSnapshotFilter,
)

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "BatchResult",
    "FillConflict",
    "JournalLock",
    "JournalLocks",
    "JournalReader",
    "JournalStore",
    "PnlLine",
    "PnlReport",
    "Prepared",
    "RecordedIntent",
    "RiskSnapshotFilter",
    "Trade",
    "funding_moves",
    "open_for_writing",
    "pnl_from",
    "schema_version",
    "set_synchronous",
    "synchronous",
]
