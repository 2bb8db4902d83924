"""The only source of identifiers.

Message ids are cheap, unique and ordered within a process. Client order ids are
deterministic: the same intent key always gives the same id, so a retried or replayed order
is recognised by the venue instead of being placed twice.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import threading
import uuid
from typing import Protocol

__all__ = [
    "CLIENT_ORDER_ID_PREFIX",
    "IdSource",
    "ProcessIds",
    "SequentialIds",
    "ThreadOrderedIds",
    "acting_as",
    "client_order_id",
    "is_our_client_order_id",
    "random_token",
    "seeded_rng",
]


class IdSource(Protocol):
    """Something that hands out unique string ids."""

    def next_id(self) -> str:
        """A new id, never returned before by this source."""
        ...


class ProcessIds:
    """Ids of the form ``<process prefix>-<counter>``: unique across restarts of the process."""

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = prefix if prefix is not None else uuid.uuid4().hex[:12]
        # itertools.count.__next__ is atomic under the GIL, so this is safe from any thread.
        self._counter = itertools.count(1)

    def next_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


class SequentialIds:
    """Deterministic ids for tests: ``<prefix>-1``, ``<prefix>-2``, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


_roles = threading.local()


def acting_as(role: str | None) -> str | None:
    """Make ``role`` the calling thread's role for :class:`ThreadOrderedIds` (None: its name
    again); returns the role it replaces. A thread that runs several actors' handlers (the
    runtime's calling-thread execution) acts as each actor in turn."""
    previous: str | None = getattr(_roles, "role", None)
    _roles.role = role
    return previous


class ThreadOrderedIds:
    """Deterministic ids when threads run concurrently: ``<prefix>-<thread>-<n>``, one counter
    per thread role (the role the thread acts as (:func:`acting_as`), else its name, without a
    trailing ``-<number>``, so pykka's ``StrategyActor-17`` counts as ``StrategyActor``
    whatever ran before in the process).

    Each actor's own messages are numbered in the order it makes them, so two runs that make
    the same messages per actor get the same ids however the threads interleave (a backtest).
    """

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}

    def next_id(self) -> str:
        role = getattr(_roles, "role", None) or threading.current_thread().name
        head, _, tail = role.rpartition("-")
        if head and tail.isdigit():
            role = head
        with self._lock:
            n = self._counters.get(role, 0) + 1
            self._counters[role] = n
        return f"{self._prefix}-{role}-{n}"


#: Every client order id perpsbot sends starts with this, so reconciliation can tell our
#: orders (to adopt after a crash) from orders placed by hand or by another program.
CLIENT_ORDER_ID_PREFIX = "pb-"
_OUR_ID = re.compile(re.escape(CLIENT_ORDER_ID_PREFIX) + r"[0-9a-f]{32}")


def client_order_id(intent_id: str) -> str:
    """The venue's client order id for an intent: ``pb-`` and 32 hex digits of its hash.

    The same ``intent_id`` always yields the same id, so a retried, replayed or resent intent
    is recognised by the venue (which returns the existing order) instead of placed twice.
    """
    if not intent_id:
        raise ValueError("client_order_id needs a non-empty intent_id, was ''")
    return CLIENT_ORDER_ID_PREFIX + hashlib.sha256(intent_id.encode()).hexdigest()[:32]


def is_our_client_order_id(text: str) -> bool:
    """True if ``text`` has the shape of an id :func:`client_order_id` makes."""
    return _OUR_ID.fullmatch(text) is not None


def random_token(n_bytes: int = 16) -> str:
    """A random hex token (nonces for JWTs and the like)."""
    return os.urandom(n_bytes).hex()


def seeded_rng(seed: int | None = None) -> random.Random:
    """The only source of pseudo-randomness (jitter, simulated prices): seeded when reproducible
    behaviour matters, from the OS otherwise."""
    return random.Random(seed)
