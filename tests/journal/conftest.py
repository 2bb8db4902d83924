from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perpsbot.clock import FakeClock
from perpsbot.journal import BatchResult, JournalStore, open_for_writing
from tests.journal.events import Events


class Writer:
    """A journal store on a real file, writing messages as the actor would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection = open_for_writing(
            path, synchronous="normal", busy_timeout_s=0.05
        )
        self.store = JournalStore(self.db)

    def commit(self, *messages: Any, one_by_one: bool = False) -> BatchResult:
        return self.store.commit([JournalStore.prepare(m) for m in messages], one_by_one=one_by_one)


class Nobody:
    """A reply address for store tests, where nothing is told."""

    path = "test/nobody"

    def tell(self, message: Any) -> None:
        raise AssertionError(f"the store never replies, was told {message!r}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events(clock: FakeClock) -> Events:
    return Events(clock)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    writer = Writer(tmp_path / "journal.sqlite3")
    yield writer
    writer.db.close()
