from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from perpsbot.errors import JournalNotFoundError, JournalSchemaError
from perpsbot.journal import MIGRATIONS, SCHEMA_VERSION, JournalReader, open_for_writing

V2 = ("ALTER TABLE fills ADD COLUMN note TEXT NOT NULL DEFAULT ''",)


def _open(path: Path, migrations: tuple[tuple[str, ...], ...] = MIGRATIONS) -> sqlite3.Connection:
    return open_for_writing(path, synchronous="normal", busy_timeout_s=1.0, migrations=migrations)


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def test_a_new_journal_and_its_directories_are_created_at_the_current_version_in_wal_mode(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / "dev" / "journal.sqlite3"

    db = _open(path)

    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert _version(path) == SCHEMA_VERSION == len(MIGRATIONS)


def test_synchronous_is_the_one_asked_for(tmp_path: Path) -> None:
    db = open_for_writing(tmp_path / "j.sqlite3", synchronous="full", busy_timeout_s=1.0)

    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db.close()


def test_an_older_journal_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    old = _open(path)
    old.execute("INSERT INTO operator_commands VALUES (1, 'm1', 5, 'halt', 'maintenance', 'al')")
    old.close()

    new = _open(path, (*MIGRATIONS, V2))

    assert new.execute("SELECT command, reason FROM operator_commands").fetchall() == [
        ("halt", "maintenance")
    ]
    assert "note" in [row[1] for row in new.execute("PRAGMA table_info(fills)")]
    new.close()
    assert _version(path) == len(MIGRATIONS) + 1


def test_a_failed_migration_leaves_the_journal_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    _open(path).close()
    broken = ("ALTER TABLE fills ADD COLUMN note TEXT", "ALTER TABLE no_such_table ADD x TEXT")

    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        _open(path, (*MIGRATIONS, broken))

    assert _version(path) == len(MIGRATIONS)
    db = _open(path)
    assert "note" not in [row[1] for row in db.execute("PRAGMA table_info(fills)")]
    db.close()


def test_a_journal_newer_than_this_code_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    _open(path, (*MIGRATIONS, V2)).close()

    with pytest.raises(JournalSchemaError) as caught:
        _open(path)

    assert str(caught.value) == (
        f"journal {path} has schema version {SCHEMA_VERSION + 1}, newer than this perpsbot "
        f"knows (up to {SCHEMA_VERSION}); upgrade perpsbot or point journal.path elsewhere"
    )
    assert _version(path) == SCHEMA_VERSION + 1


def test_the_reader_refuses_a_journal_of_another_version_saying_what_to_do(
    tmp_path: Path,
) -> None:
    newer, empty = tmp_path / "newer.sqlite3", tmp_path / "empty.sqlite3"
    _open(newer, (*MIGRATIONS, V2)).close()
    sqlite3.connect(empty).close()

    with pytest.raises(JournalSchemaError, match="upgrade perpsbot to read it"):
        JournalReader(newer)
    with pytest.raises(JournalSchemaError, match="start the bot on it once to migrate it"):
        JournalReader(empty)


def test_the_reader_never_creates_a_missing_journal(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite3"

    with pytest.raises(JournalNotFoundError, match=f"journal file {path} must exist"):
        JournalReader(path)

    assert not path.exists()
