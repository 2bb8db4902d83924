"""The directory that holds a simulated exchange's state: its SQLite file, lock and address.

``DIR/state.sqlite3`` holds the state: a ``meta`` table (the format and its version, the
account's id), ``parts`` (the account and market attributes as JSON, see
:mod:`perpsbot.sim._snapshot`), and ``orders``, ``fills`` and ``candles`` as rows, so a save
writes only what changed. Every save is one transaction (WAL): a ``kill -9`` leaves the last
committed state, never a torn one.

``DIR/lock`` is held (``flock``, with the holder's pid in it) by the one exchange that runs
on the state; the kernel frees it when that process ends, however it ends. ``DIR/endpoint.json``
says where that exchange answers while it runs, so ``perpsbot account`` can reach it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import msgspec

from perpsbot.errors import SimStateError, SimStateInUseError

__all__ = ["FORMAT_VERSION", "Saved", "StateDirectory", "StateFile", "Writes"]

FORMAT = "perpsbot-sim-state"
FORMAT_VERSION = 1
"""Raised when a saved attribute changes meaning; adding one needs no new version."""

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE parts (name TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE orders (order_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,"
    " body TEXT NOT NULL)",
    "CREATE TABLE fills (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE candles (product_id TEXT NOT NULL, minute INTEGER NOT NULL,"
    " body TEXT NOT NULL, PRIMARY KEY (product_id, minute))",
)
_WAY_OUT = (
    "move it away, or start over with 'perpsbot sim --state DIR --fresh' (which discards it)"
    " or, for a bot's paper account, 'perpsbot run --fresh-paper' (which sets it and the"
    " journal aside)"
)


def unusable(path: Path, why: str) -> SimStateError:
    """The error for a state file that cannot be used: names it, why, and the way out."""
    return SimStateError(f"simulated exchange state {path} cannot be used: {why}; {_WAY_OUT}")


@attrs.frozen(kw_only=True)
class Saved:
    """Everything a state file holds, JSON decoded, rows in the order they were made."""

    meta: dict[str, str]
    parts: dict[str, Any]
    orders: list[Any]
    fills: list[Any]
    candles: dict[str, dict[int, Any]]


@attrs.frozen(kw_only=True)
class Writes:
    """What one save writes (JSON-able values; ``orders`` keyed by order id, with their seq)."""

    parts: dict[str, Any] = attrs.field(factory=dict)
    orders: list[tuple[str, int, Any]] = attrs.field(factory=list)
    fills: list[tuple[int, Any]] = attrs.field(factory=list)
    candles: list[tuple[str, int, Any]] = attrs.field(factory=list)
    candles_before: int | None = None
    """Candles older than this minute (epoch seconds) are deleted."""


class StateFile:
    """One connection to ``state.sqlite3``; the caller serialises its use."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        self._read_only = read_only
        try:
            if read_only:
                self._db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                # Private like the journal: SQLite gives its -wal and -shm files this mode.
                os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
                self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as error:
            raise unusable(path, str(error)) from None
        try:
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                # A commit survives a kill of the process; a power loss may take the last ones.
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._meta = self._check()
        except sqlite3.Error as error:
            self._db.close()
            raise unusable(path, str(error)) from None
        except BaseException:
            self._db.close()
            raise

    @property
    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    def _check(self) -> dict[str, str]:
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if not tables:
            if self._read_only:
                raise unusable(self.path, "it is empty")
            return {}
        if "meta" not in tables:
            raise unusable(self.path, "it is not a perpsbot sim state (no meta table)")
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        if meta.get("format") != FORMAT:
            raise unusable(self.path, f"its format must be {FORMAT!r}, was {meta.get('format')!r}")
        if meta.get("version") != str(FORMAT_VERSION):
            raise unusable(
                self.path,
                f"its format version must be {FORMAT_VERSION}, was {meta.get('version')!r}",
            )
        return meta

    @property
    def is_new(self) -> bool:
        """True until :meth:`create` ran: the file has no state yet."""
        return not self._meta

    def create(self, meta: dict[str, str]) -> None:
        """Lay out the tables and record ``meta`` (with the format and its version)."""
        meta = {**meta, "format": FORMAT, "version": str(FORMAT_VERSION)}
        with self._transaction():
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        self._meta = meta

    def read(self) -> Saved:
        """The whole state.

        Raises:
            SimStateError: the file cannot be read or holds something that is not JSON.
        """
        try:
            parts = {name: _loads(body) for name, body in self._db.execute("SELECT * FROM parts")}
            orders = [
                _loads(b) for (b,) in self._db.execute("SELECT body FROM orders ORDER BY seq")
            ]
            fills = [_loads(b) for (b,) in self._db.execute("SELECT body FROM fills ORDER BY seq")]
            candles: dict[str, dict[int, Any]] = {}
            for pid, minute, body in self._db.execute(
                "SELECT product_id, minute, body FROM candles ORDER BY product_id, minute"
            ):
                candles.setdefault(pid, {})[minute] = _loads(body)
        except (sqlite3.Error, msgspec.DecodeError) as error:
            raise unusable(self.path, str(error)) from None
        return Saved(meta=self.meta, parts=parts, orders=orders, fills=fills, candles=candles)

    def write(self, writes: Writes) -> None:
        """Commit ``writes`` in one transaction (all of it or nothing).

        Raises:
            sqlite3.Error: nothing was written.
        """
        with self._transaction():
            execute, executemany = self._db.execute, self._db.executemany
            executemany(
                "INSERT OR REPLACE INTO parts (name, body) VALUES (?, ?)",
                ((name, _dumps(body)) for name, body in writes.parts.items()),
            )
            executemany(
                "INSERT INTO orders (order_id, seq, body) VALUES (?, ?, ?)"
                " ON CONFLICT (order_id) DO UPDATE SET body = excluded.body",
                ((order_id, seq, _dumps(body)) for order_id, seq, body in writes.orders),
            )
            executemany(
                "INSERT OR REPLACE INTO fills (seq, body) VALUES (?, ?)",
                ((seq, _dumps(body)) for seq, body in writes.fills),
            )
            executemany(
                "INSERT OR REPLACE INTO candles (product_id, minute, body) VALUES (?, ?, ?)",
                ((pid, minute, _dumps(body)) for pid, minute, body in writes.candles),
            )
            if writes.candles_before is not None:
                execute("DELETE FROM candles WHERE minute < ?", (writes.candles_before,))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection; a writer leaves a plain database file behind (no ``-wal``):
        a reader then opens it without making files beside it."""
        if not self._read_only:
            # OperationalError: a reader has it open; it stays in WAL mode, which is fine.
            with contextlib.suppress(sqlite3.OperationalError):
                self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()


def _dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _loads(body: Any) -> Any:
    if not isinstance(body, str | bytes):
        raise msgspec.DecodeError("a row's body is not text", str(body), 0)
    return msgspec.json.decode(body)


class StateDirectory:
    """``DIR``: the state file, the lock of the exchange that runs on it, and its address."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None

    @property
    def state_file(self) -> Path:
        return self.path / "state.sqlite3"

    @property
    def lock_file(self) -> Path:
        return self.path / "lock"

    @property
    def endpoint_file(self) -> Path:
        return self.path / "endpoint.json"

    def create(self) -> None:
        """Create the directory (0700: it holds an account) if it is missing.

        Raises:
            SimStateError: it cannot be created (a file in the way, no permission).
        """
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise SimStateError(
                f"simulated exchange state directory {self.path} cannot be created:"
                f" {error.strerror or error}"
            ) from None

    def lock(self) -> None:
        """Hold the lock for this process.

        Raises:
            SimStateInUseError: another exchange runs on this state (its pid named).
            SimStateError: the lock file cannot be opened.
        """
        self.create()
        try:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise SimStateError(
                f"simulated exchange state {self.path}: lock file: {error.strerror or error}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid_in(fd)
            os.close(fd)
            raise SimStateInUseError(
                f"simulated exchange state {self.path} is in use by another exchange"
                f" ({'pid ' + str(holder) if holder else 'its pid not yet written'}): one"
                " state, one exchange; stop that one first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)

    def holder(self) -> int | None:
        """The pid of the process whose exchange runs on this state, or None if none does
        (0 if one does but has not written its pid yet)."""
        try:
            fd = os.open(self.lock_file, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _pid_in(fd) or 0
            return None
        finally:
            os.close(fd)  # releases the shared lock, if it was taken

    def discard_state(self) -> None:
        """Delete the state file (and SQLite's files beside it); hold the lock first."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.state_file}{suffix}").unlink()

    def publish_endpoint(self, endpoint: dict[str, str]) -> None:
        """Write where the running exchange answers (atomically: a reader sees all or none)."""
        temporary = self.endpoint_file.with_name(f".{self.endpoint_file.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps({"pid": os.getpid(), **endpoint}) + "\n")
        temporary.replace(self.endpoint_file)

    def withdraw_endpoint(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.endpoint_file.unlink()

    def endpoint(self) -> dict[str, Any] | None:
        """What :meth:`publish_endpoint` wrote, or None if there is nothing readable."""
        try:
            found = json.loads(self.endpoint_file.read_text())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None


def _pid_in(fd: int) -> int | None:
    with contextlib.suppress(ValueError):
        return int(os.pread(fd, 32, 0).decode("ascii", "replace").strip())
    return None
