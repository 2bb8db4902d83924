"""Producer-side conflation: the latest value per key, and a single wake-up for the actor.

A conflating mailbox keeps memory bounded, but every replaced message was still built and
told. A :class:`Coalescer` moves conflation to the producer: an I/O thread offers values
(a dict store under an uncontended lock), and while any are pending the actor holds exactly
one :class:`CoalescedReady` in its mailbox. On it the actor takes every pending value at
once. This is the "coalesced wake-up" of the pykka measurements, kept behind one object so
the shared state never leaks into either side's code.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

import attrs

from perpsbot.runtime._cell import ActorAddress

__all__ = ["CoalescedReady", "Coalescer"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@attrs.frozen(kw_only=True)
class CoalescedReady:
    """Values are pending in ``source``: call ``source.take()``."""

    source: Coalescer[Any, Any]


class Coalescer(Generic[K, V]):
    """Latest value per key from producer threads, delivered to one actor in batches.

    Args:
        consumer: the actor told :class:`CoalescedReady` when values become pending.
        resend_after_ns: if a wake-up was told this long ago and not taken (it was lost,
            e.g. as a dead letter while the consumer restarted), the next offer tells again.
    """

    def __init__(self, consumer: ActorAddress, *, resend_after_ns: int = 1_000_000_000) -> None:
        self._consumer = consumer
        self._resend_after_ns = resend_after_ns
        self._lock = threading.Lock()
        self._pending: dict[K, V] = {}
        self._told_at_ns: int | None = None  # None: no wake-up outstanding
        self.offered = 0
        self.delivered = 0

    def offer(self, key: K, value: V, now_ns: int) -> None:
        """Make ``value`` the pending value for ``key``; wake the consumer if it is not yet."""
        with self._lock:
            self._pending[key] = value
            self.offered += 1
            told = self._told_at_ns
            if told is not None and now_ns - told < self._resend_after_ns:
                return
            self._told_at_ns = now_ns
        self._consumer.tell(CoalescedReady(source=self))

    def take(self) -> dict[K, V]:
        """Every pending value, oldest key first; the next offer wakes the consumer again."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._told_at_ns = None
            self.delivered += len(pending)
        return pending

    def __repr__(self) -> str:
        return f"Coalescer(to={self._consumer.path!r}, pending={len(self._pending)})"
