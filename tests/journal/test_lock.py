"""The journal on disk: one writing process (an flock that a kill -9 releases), private modes,
and a path that must be a regular file, refused before anything is created."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.errors import JournalInUseError, JournalPathError
from perpsbot.journal import JournalLock, JournalLocks, JournalReader, open_for_writing
from tests.journal.conftest import Writer
from tests.journal.events import Events

#: A process that holds the journal ``argv[1]`` until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from perpsbot.journal import JournalLock
JournalLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
sys.stdin.read()
"""


#: The three ways into a journal for writing: each refuses a path that cannot be one.
OPENERS: dict[str, Callable[[Path], object]] = {
    "lock": lambda path: JournalLock(path).acquire(),
    "locks": lambda path: JournalLocks().hold(path),
    "writer": lambda path: open_for_writing(path, synchronous="normal", busy_timeout_s=1.0),
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.slow
def test_a_journal_another_process_holds_is_refused_naming_it_and_its_pid_until_it_is_killed_9(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "var" / "journal.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(journal)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(JournalInUseError) as refused:
            JournalLock(journal).acquire()
    finally:
        holder.kill()  # SIGKILL: the process gets no chance to let go of anything
        holder.communicate(timeout=10)

    assert holder.returncode == -signal.SIGKILL
    assert str(refused.value) == (
        f"journal {journal} is in use by another process (pid {holder.pid}, lock file"
        f" {journal}.lock): one journal, one bot; stop that bot first, or give this one its"
        " own journal.path"
    )
    with JournalLock(journal) as lock:  # the kernel released it with the process
        assert lock.held
        assert (tmp_path / "var" / "journal.sqlite3.lock").read_text() == f"{os.getpid()}\n"


def test_a_journal_given_up_can_be_held_again(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    first, second = JournalLock(journal), JournalLock(journal)
    first.acquire()

    with pytest.raises(JournalInUseError, match=f"pid {os.getpid()}"):
        second.acquire()
    first.release()
    second.acquire()

    assert second.held
    assert not first.held
    second.release()


def test_a_link_to_a_held_journal_is_the_same_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    link = tmp_path / "link.sqlite3"
    link.symlink_to(journal)

    with JournalLock(journal), pytest.raises(JournalInUseError, match=str(link)):
        JournalLock(link).acquire()


def test_a_new_journal_its_wal_and_its_lock_file_are_0600_in_a_new_0700_directory(
    tmp_path: Path, events: Events
) -> None:
    journal = tmp_path / "var" / "dev" / "journal.sqlite3"

    with JournalLock(journal):
        writer = Writer(journal)
        writer.commit(events.halt())  # the write-ahead log and its index exist now
        try:
            modes = {p.name: _mode(p) for p in journal.parent.iterdir()}
        finally:
            writer.db.close()

    assert _mode(journal.parent) == 0o700
    assert modes == {
        "journal.sqlite3": 0o600,
        "journal.sqlite3-wal": 0o600,
        "journal.sqlite3-shm": 0o600,
        "journal.sqlite3.lock": 0o600,
    }


def test_an_existing_journal_open_to_others_is_warned_about_and_left_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal.sqlite3"
    open_for_writing(journal, synchronous="normal", busy_timeout_s=1.0).close()
    journal.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="perpsbot.journal"), JournalLock(journal):
        pass

    assert [r.getMessage() for r in caplog.records] == [
        f"journal {journal} is open to other users (mode 0644) and holds orders, fills and"
        " balances; it is left as it is: chmod 600 it if only this user should read it"
    ]
    assert _mode(journal) == 0o644


def test_a_private_journal_is_held_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal.sqlite3"
    open_for_writing(journal, synchronous="normal", busy_timeout_s=1.0).close()

    with caplog.at_level(logging.WARNING, logger="perpsbot.journal"), JournalLock(journal):
        pass

    assert caplog.records == []


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("directory", "found a directory"),
        ("/dev/null", "found a character device"),
        ("in-a-file", "Not a directory"),
    ],
)
@pytest.mark.parametrize("opener", list(OPENERS))
def test_a_journal_path_that_is_no_regular_file_is_refused_creating_nothing(
    tmp_path: Path, where: str, found: str, opener: str
) -> None:
    (tmp_path / "directory").mkdir()
    (tmp_path / "file").write_text("")
    path = {
        "directory": tmp_path / "directory",
        "/dev/null": Path("/dev/null"),
        "in-a-file": tmp_path / "file" / "journal.sqlite3",
    }[where]
    before = sorted(tmp_path.rglob("*"))

    with pytest.raises(JournalPathError) as refused:
        OPENERS[opener](path)

    assert str(refused.value).startswith(
        f"journal.path must be a regular file, or a path where the bot can create one, was"
        f" '{path}' ("
    )
    assert found in str(refused.value)
    assert sorted(tmp_path.rglob("*")) == before
    assert not Path("/dev/null.lock").exists()


def test_a_reader_reads_a_journal_while_its_writer_holds_the_lock(
    writer: Writer, events: Events
) -> None:
    with JournalLock(writer.path):
        writer.commit(events.halt())
        with JournalReader(writer.path) as reader:
            assert reader.counts()["operator_commands"] == 1


def test_locks_hold_the_next_journal_before_they_give_the_previous_one_up(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    with JournalLocks() as locks:
        locks.hold(first)
        locks.hold(first)  # held already: nothing to take
        locks.hold(second)
        for held in (first, second):
            with pytest.raises(JournalInUseError):
                JournalLock(held).acquire()

        locks.retain(second)

        with JournalLock(first):
            pass
        with pytest.raises(JournalInUseError):
            JournalLock(second).acquire()
    with JournalLock(second):  # closing the locks gave it up
        pass
