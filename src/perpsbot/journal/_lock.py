"""The journal file on disk: a regular file, private to its owner, one writing process.

One bot per journal: a bot holds an exclusive lock on its journal for as long as it runs, an
``flock`` on a file beside it, ``<journal>.lock``, which holds the holder's pid. The kernel
releases the lock when the process ends, however it ends (``kill -9`` included), so a lock is
never stale. The lock file stays (removing it would race a process that has just opened it);
the next holder writes its own pid in it. Readers take no lock: a
:class:`~perpsbot.journal.JournalReader` reads while a bot runs.

The journal holds orders, fills and balances, so what the bot creates is private: the
journal's directory 0700, the file and its lock file 0600 (SQLite gives the ``-wal`` and
``-shm`` files the database's mode). An existing journal is never chmod-ed: one open to other
users is warned about, since it may not be the bot's to change.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import threading
from pathlib import Path
from types import TracebackType

from perpsbot._paths import shown
from perpsbot.errors import JournalInUseError, JournalPathError

__all__ = ["JournalLock", "JournalLocks", "check_journal_path", "create_journal_file"]

logger = logging.getLogger("perpsbot.journal")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def check_journal_path(path: Path) -> None:
    """Check that ``path`` is a regular file or nothing yet (symbolic links followed);
    creates nothing.

    Raises:
        JournalPathError: a directory, a device, a FIFO or a socket is there.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:  # a parent that is a file, a loop of links, no permission
        raise _path_error(path, error.strerror or str(error)) from None
    if not stat.S_ISREG(mode):
        kind = next((name for is_kind, name in _KINDS if is_kind(mode)), "not a regular file")
        raise _path_error(path, f"found {kind}")


def create_journal_file(path: Path) -> None:
    """Create the journal's directory (0700) and an empty journal (0600) if they are missing;
    an existing file is left as it is.

    Raises:
        JournalPathError: ``path`` is not a regular file, or cannot be created (nothing was).
    """
    _create_directory(path)
    try:
        # O_NONBLOCK: a FIFO put there since the check must not block the open.
        flags = os.O_RDONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
        os.close(os.open(path, flags, 0o600))
    except OSError as error:
        raise _path_error(path, error.strerror or str(error)) from None


class JournalLock:
    """This process's exclusive hold on the journal at ``path`` (see the module docstring).

    Args:
        path: the journal (it need not exist yet).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def lock_path(self) -> Path:
        """The lock file: beside the journal's real file, whatever links lead to it."""
        return Path(f"{self.path.resolve()}.lock")

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock (creating the journal's directory 0700 and the lock file 0600 if
        missing), write this process's pid in it, and warn if the journal is open to others.

        Raises:
            JournalPathError: ``path`` cannot be a journal (nothing was created).
            JournalInUseError: another process holds the lock.
        """
        if self._fd is not None:
            return
        _create_directory(self.path)
        lock_path = self.lock_path
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise _path_error(self.path, f"lock file {lock_path}: {error.strerror}") from None
        try:
            self._lock(fd, lock_path)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _warn_if_open_to_others(self.path)

    def _lock(self, fd: int, lock_path: Path) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid_in(fd)
            held_by = f"pid {holder}" if holder else "its pid not yet written"
            raise JournalInUseError(
                f"journal {shown(self.path)} is in use by another process ({held_by}, lock file"
                f" {lock_path}): one journal, one bot; stop that bot first, or give this one"
                " its own journal.path"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def release(self, *, remove: bool = False) -> None:
        """Give the lock up (the lock file stays, emptied of our pid).

        Args:
            remove: delete the lock file first, while still holding it: for a journal no bot
                is to write again (a finished backtest's). A process that opened the file
                before finds it locked; one that comes after makes its own.
        """
        fd, self._fd = self._fd, None
        if fd is not None:
            if remove:
                with contextlib.suppress(FileNotFoundError):  # removed by hand meanwhile
                    self.lock_path.unlink()
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> JournalLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class JournalLocks:
    """The journal locks of a bot process: the daemon holds the journal it starts on, takes
    the new one before a reload moves the bot to another journal (a failure rejects the
    reload) and gives the old one up after (:meth:`retain`). Thread-safe."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held: dict[Path, JournalLock] = {}

    def hold(self, path: Path) -> None:
        """Hold the journal at ``path`` (at once if this process holds it already).

        Raises:
            JournalPathError: ``path`` cannot be a journal.
            JournalInUseError: another process holds it.
        """
        check_journal_path(path)  # before the lock file's path is made of it
        with self._mutex:
            lock = JournalLock(path)
            if lock.lock_path not in self._held:
                lock.acquire()
                self._held[lock.lock_path] = lock

    def retain(self, path: Path) -> None:
        """Release every journal but the one at ``path``."""
        keep = JournalLock(path).lock_path
        with self._mutex:
            retired = [lock for key, lock in self._held.items() if key != keep]
            self._held = {key: lock for key, lock in self._held.items() if key == keep}
        for lock in retired:
            lock.release()

    def close(self) -> None:
        """Release them all."""
        with self._mutex:
            held, self._held = list(self._held.values()), {}
        for lock in held:
            lock.release()

    def __enter__(self) -> JournalLocks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _create_directory(path: Path) -> None:
    check_journal_path(path)
    directory = path.parent
    try:
        # Only the last level gets 0700 (mkdir -p gives the others the default mode).
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:  # a file in the way, a read-only or missing parent
        raise _path_error(path, f"directory {directory}: {error.strerror or error}") from None


def _path_error(path: Path, found: str) -> JournalPathError:
    return JournalPathError(
        f"journal.path must be a regular file, or a path where the bot can create one,"
        f" was '{shown(path)}' ({found})"
    )


def _pid_in(fd: int) -> int | None:
    """The pid a holder wrote in its lock file, if it wrote one yet."""
    with contextlib.suppress(ValueError):  # empty: the holder has not written it yet
        return int(os.pread(fd, 32, 0).decode("ascii", "replace").strip())
    return None


def _warn_if_open_to_others(path: Path) -> None:
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:  # a new journal: the writer creates it private
        return
    if mode & 0o077:
        logger.warning(
            "journal %s is open to other users (mode %04o) and holds orders, fills and"
            " balances; it is left as it is: chmod 600 it if only this user should read it",
            path,
            mode,
        )
