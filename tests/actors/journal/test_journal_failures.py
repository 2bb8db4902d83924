"""A journal that cannot write keeps its batch and never acknowledges what it did not commit."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from perpsbot.bot._sections import bot_sections
from perpsbot.clock import FakeClock
from perpsbot.errors import JournalWriteError
from perpsbot.ids import SequentialIds
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import Probe, eventually, wait_idle
from tests.actors.journal.journal_tree import JOURNAL, journal_config, read, recorded, start_journal
from tests.journal.events import Events
from tests.runtime.conftest import Block


@pytest.fixture
def system(clock: FakeClock) -> Iterator[ActorSystem]:
    system = ActorSystem(
        "test",
        clock=clock,
        ids=SequentialIds("msg"),
        sections_of=bot_sections,
        watchdog_interval_s=None,
    )
    yield system
    system.shutdown()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection; ``BEGIN IMMEDIATE`` on it holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    yield other
    other.close()


def _write_errors(system: ActorSystem) -> int:
    errors: int = system.state(JOURNAL).write_errors
    return errors


def test_intent_recorded_waits_for_the_commit_while_another_writer_holds_the_lock(
    system: ActorSystem,
    probe: Probe,
    clock: FakeClock,
    path: Path,
    lock: sqlite3.Connection,
) -> None:
    start_journal(system, probe, journal_config(path), retry_delays_s=(0.5, 1.0))
    events = Events(clock)
    intent = events.intent()
    lock.execute("BEGIN IMMEDIATE")

    system.address(JOURNAL).tell(events.record(intent, system.address("bot/executor")))
    eventually(lambda: _write_errors(system) == 1, what="a failed commit")

    assert recorded(probe) == []
    with read(path) as reader:
        assert reader.intent(intent.intent_id) is None
    assert system.state(JOURNAL).pending == 1
    lock.execute("COMMIT")
    clock.advance(0.5)  # the retry
    probe.wait_for(lambda _: recorded(probe) == [intent.intent_id], what="IntentRecorded")
    with read(path) as reader:
        assert reader.intent(intent.intent_id) is not None
    assert system.state(JOURNAL).write_errors == 1


def test_past_its_last_retry_the_journal_fails_and_its_successor_commits_the_batch(
    system: ActorSystem,
    probe: Probe,
    clock: FakeClock,
    path: Path,
    lock: sqlite3.Connection,
) -> None:
    start_journal(system, probe, journal_config(path), retry_delays_s=(0.5,))
    events = Events(clock)
    intent = events.intent()
    fills = [events.fill(intent, f"fill-{n}") for n in range(3)]
    journal = system.address(JOURNAL)
    lock.execute("BEGIN IMMEDIATE")
    journal.tell(events.record(intent, system.address("bot/executor")))
    for fill in fills:
        journal.tell(fill)
    eventually(lambda: _write_errors(system) == 1, what="a failed commit")

    clock.advance(0.5)  # the last retry fails too: the actor fails, its successor starts
    eventually(lambda: journal.incarnation == 2, what="a restarted journal")
    eventually(lambda: _write_errors(system) == 3, what="the successor's failed commit")

    assert recorded(probe) == []
    failure = next(d for d in system.dead_letters.recent() if d.reason == "its handler raised")
    assert isinstance(failure.error, JournalWriteError)
    assert f"journal {path} must commit 4 events, failed 2 times" in str(failure.error)
    lock.execute("COMMIT")
    clock.advance(0.5)
    probe.wait_for(lambda _: recorded(probe) == [intent.intent_id], what="IntentRecorded")
    with read(path) as reader:
        assert reader.fills() == fills
        assert reader.intent(intent.intent_id) is not None


def test_a_batch_flush_queued_behind_a_failed_intent_starts_no_second_retry_chain(
    system: ActorSystem,
    probe: Probe,
    clock: FakeClock,
    path: Path,
    lock: sqlite3.Connection,
) -> None:
    start_journal(system, probe, journal_config(path), retry_delays_s=(0.5, 1.0))
    events = Events(clock)
    intent = events.intent()
    journal = system.address(JOURNAL)
    lock.execute("BEGIN IMMEDIATE")
    block = Block(release=threading.Event())
    journal.tell(block)
    block.entered.wait(5)
    journal.tell(events.position())  # opens a batch: its flush is queued behind the intent
    journal.tell(events.record(intent, system.address("bot/executor")))
    block.release.set()
    wait_idle(system)
    assert _write_errors(system) == 1  # the intent's commit; the batch's flush left it alone

    clock.advance(0.5)  # the first retry
    wait_idle(system)
    assert _write_errors(system) == 2
    clock.advance(0.9)  # not yet the second retry (1.0 after the first)
    wait_idle(system)
    assert _write_errors(system) == 2

    lock.execute("COMMIT")
    clock.advance(0.1)  # the second retry commits
    probe.wait_for(lambda _: recorded(probe) == [intent.intent_id], what="IntentRecorded")
    assert journal.incarnation == 1
    assert system.state(JOURNAL).pending == 0
    assert _write_errors(system) == 2
