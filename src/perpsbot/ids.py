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
import uuid
from typing import Protocol

__all__ = [
    "IdSource",
    "ProcessIds",
    "SequentialIds",
    "client_order_id",
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


def client_order_id(intent_key: str) -> str:
    """A deterministic client order id (UUID-shaped) for an order intent.

    The same ``intent_key`` always yields the same id, which makes order creation idempotent.
    """
    digest = hashlib.sha256(intent_key.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def random_token(n_bytes: int = 16) -> str:
    """A random hex token (nonces for JWTs and the like)."""
    return os.urandom(n_bytes).hex()


def seeded_rng(seed: int | None = None) -> random.Random:
    """The only source of pseudo-randomness (jitter, simulated prices): seeded when reproducible
    behaviour matters, from the OS otherwise."""
    return random.Random(seed)
