"""What the journal actor shows when inspected (``system.state("bot/journal")``)."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["JournalState"]


@attrs.frozen(kw_only=True)
class JournalState:
    """The journal's inspection reply: its file and this incarnation's counters (carried
    over its restarts)."""

    path: Path
    synchronous: str | None
    """SQLite's ``PRAGMA synchronous`` (``normal``, ``full``...); None while no file is open."""
    schema_version: int | None
    """None while no file is open."""
    pending: int
    """Events waiting for a commit."""
    commits: int
    events_written: int
    duplicates_ignored: int
    largest_batch: int
    write_errors: int
    rejected: int
    fill_conflicts: int
