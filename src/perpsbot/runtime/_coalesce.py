"""Producer-side conflation: the latest value per key, and a single wake-up for the actor.

A conflating mailbox keeps memory bounded, but every replaced message was still built and
told. A :class:`Coalescer` moves conflation to the producer: an I/O thread offers values
(a dict store under an uncontended lock), and while any are pending the actor holds exactly
one :class:`CoalescedReady` in its mailbox. On it the actor takes every pending value at
once. This is the "coalesced wake-up" of the pykka measurements, kept behind one object so
the shared state never leaks into either side's code.

The coalescer is the one object the producer thread and the consumer actor share, and they
share it by construction, never through a message: whoever builds both creates it and hands
it to each as a keyword argument; the consumer binds its address to it (:meth:`bind`) and
takes from its own reference. The wake-up token carries no reference to it, so no mutable
object travels between threads in a message.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

import attrs

from perpsbot.runtime._cell import ActorAddress

__all__ = ["CoalescedReady", "Coalescer"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@attrs.frozen(kw_only=True)
class CoalescedReady:
    """Values are pending in the coalescer named ``source`` that the receiving actor was built
    with: take them from it (``coalescer.take()``). A plain token."""

    source: str


class Coalescer(Generic[K, V]):
    """Latest value per key from producer threads, delivered to one actor in batches.

    Args:
        name: names the wake-up token (``CoalescedReady.source``) and the repr.
        resend_after_ns: if a wake-up was told this long ago and not taken (it was lost,
            e.g. as a dead letter while the consumer restarted), the next offer tells again.
    """

    def __init__(self, name: str, *, resend_after_ns: int = 1_000_000_000) -> None:
        self.name = name
        self._ready = CoalescedReady(source=name)
        self._resend_after_ns = resend_after_ns
        self._lock = threading.Lock()
        self._consumer: ActorAddress | None = None
        self._pending: dict[K, V] = {}
        self._told_at_ns: int | None = None  # None: no wake-up outstanding
        self.offered = 0
        self.delivered = 0

    def bind(self, consumer: ActorAddress) -> None:
        """Deliver to ``consumer`` (the consumer calls this in its constructor, with its own
        stable address); values offered before are announced now."""
        with self._lock:
            self._consumer = consumer
            pending = bool(self._pending)
            self._told_at_ns = None
        if pending:
            consumer.tell(self._ready)

    def offer(self, key: K, value: V, now_ns: int) -> None:
        """Make ``value`` the pending value for ``key``; wake the consumer if it is not yet."""
        with self._lock:
            self._pending[key] = value
            self.offered += 1
            told = self._told_at_ns
            consumer = self._consumer
            if consumer is None or (told is not None and now_ns - told < self._resend_after_ns):
                return
            self._told_at_ns = now_ns
        consumer.tell(self._ready)

    def take(self) -> dict[K, V]:
        """Every pending value, oldest key first; the next offer wakes the consumer again."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._told_at_ns = None
            self.delivered += len(pending)
        return pending

    def __repr__(self) -> str:
        to = None if self._consumer is None else self._consumer.path
        return f"Coalescer({self.name!r}, to={to!r}, pending={len(self._pending)})"
