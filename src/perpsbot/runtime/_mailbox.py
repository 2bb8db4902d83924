"""Mailboxes: the inboxes behind every actor, plugged into pykka through its inbox hook.

Every mailbox has two lanes. The control lane (stop, ping, state, config) is always served
first and is never bounded or conflated. The normal lane differs per kind:

- :class:`FifoMailbox`: unbounded first-in first-out; the default.
- :class:`ConflatingMailbox`: keeps only the latest message per key (market data).
- :class:`BoundedMailbox`: FIFO with a capacity and an explicit :class:`Overflow` policy.

A mailbox belongs to an actor's stable address, not to one incarnation, so messages queued
while an actor restarts are handled by its successor. Whatever a mailbox refuses is handed to
its ``on_drop`` callback, which records a dead letter.

Wake-ups cost a lock only when the consumer is actually asleep: producers append to a deque
(atomic under the GIL) and notify only if the consumer announced it is waiting. This is what
makes a tell several times cheaper than pykka's stock ``queue.Queue``.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from perpsbot.errors import DeadLetterError
from perpsbot.runtime._control import ControlMessage

__all__ = [
    "BoundedMailbox",
    "ConflatingMailbox",
    "FifoMailbox",
    "Mailbox",
    "MailboxFullError",
    "Overflow",
]

DropCallback = Callable[[Envelope[Any], str], None]


class MailboxFullError(DeadLetterError):
    """A bounded mailbox with the ``REJECT`` policy was full; the message was not queued."""


def _ignore_drop(envelope: Envelope[Any], reason: str) -> None:
    """Default drop sink until the mailbox is attached to an address."""


class Mailbox:
    """The control lane and the sleep/wake protocol shared by every mailbox kind.

    Subclasses implement ``_put_normal``, ``_take_normal`` and ``_normal_depth``.
    There is exactly one consumer: the actor's thread.
    """

    def __init__(self) -> None:
        self._control: deque[Envelope[Any]] = deque()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._waiting = False
        self.max_depth = 0
        self.on_drop: DropCallback = _ignore_drop

    # -- producer side ---------------------------------------------------------------------

    def put(self, envelope: Envelope[Any], /) -> None:
        """Queue ``envelope`` on its lane and wake the consumer if it sleeps."""
        message = envelope.message
        if isinstance(message, ControlMessage) or type(message) is _ActorStop:
            self._control.append(envelope)
        else:
            self._put_normal(envelope)
        if self._waiting:
            with self._lock:
                self._wakeup.notify()

    # -- consumer side ---------------------------------------------------------------------

    def put_front(self, envelope: Envelope[Any], /) -> None:
        """Return an envelope taken by a consumer that had to give it back (a retired thread)."""
        message = envelope.message
        if isinstance(message, ControlMessage) or type(message) is _ActorStop:
            self._control.appendleft(envelope)
        else:
            self._put_normal_front(envelope)
        if self._waiting:
            with self._lock:
                self._wakeup.notify()

    def get(self) -> Envelope[Any]:
        """The next envelope, control lane first; blocks while both lanes are empty."""
        while True:
            if self._control:
                return self._control.popleft()
            envelope = self._take_normal()
            if envelope is not None:
                return envelope
            with self._lock:
                # Announce the wait before re-checking, so a producer that appends after our
                # check is guaranteed to see _waiting and notify.
                self._waiting = True
                try:
                    if not self._control and not self._normal_depth():
                        self._wakeup.wait()
                finally:
                    self._waiting = False

    def empty(self) -> bool:
        return not self._control and not self._normal_depth()

    def depth(self) -> int:
        """Messages waiting now, both lanes."""
        return len(self._control) + self._normal_depth()

    def drain(self) -> list[Envelope[Any]]:
        """Remove and return everything queued (used when an address closes for good)."""
        drained: list[Envelope[Any]] = []
        while self._control:
            drained.append(self._control.popleft())
        while (envelope := self._take_normal()) is not None:
            drained.append(envelope)
        return drained

    def _note_depth(self, depth: int) -> None:
        self.max_depth = max(self.max_depth, depth)

    # -- the normal lane, per kind ---------------------------------------------------------

    def _put_normal(self, envelope: Envelope[Any]) -> None:
        raise NotImplementedError

    def _put_normal_front(self, envelope: Envelope[Any]) -> None:
        raise NotImplementedError

    def _take_normal(self) -> Envelope[Any] | None:
        raise NotImplementedError

    def _normal_depth(self) -> int:
        raise NotImplementedError


class FifoMailbox(Mailbox):
    """Unbounded first-in first-out normal lane."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[Envelope[Any]] = deque()

    def _put_normal(self, envelope: Envelope[Any]) -> None:
        queue = self._queue
        queue.append(envelope)
        depth = len(queue)
        self.max_depth = max(self.max_depth, depth)

    def _put_normal_front(self, envelope: Envelope[Any]) -> None:
        self._queue.appendleft(envelope)

    def _take_normal(self) -> Envelope[Any] | None:
        try:
            return self._queue.popleft()
        except IndexError:
            return None

    def _normal_depth(self) -> int:
        return len(self._queue)


class Overflow(enum.Enum):
    """What a full :class:`BoundedMailbox` does with one more message."""

    DROP_NEWEST = "drop_newest"
    """Refuse the new message (it becomes a dead letter); the queue keeps its order."""
    DROP_OLDEST = "drop_oldest"
    """Evict the oldest queued message (it becomes a dead letter) to make room."""
    REJECT = "reject"
    """Raise :class:`MailboxFullError` to the sender (and record a dead letter)."""


class BoundedMailbox(FifoMailbox):
    """FIFO normal lane holding at most ``capacity`` messages.

    Args:
        capacity: the most messages the normal lane holds; the control lane is unbounded.
        overflow: what to do with a message that does not fit.
    """

    def __init__(self, capacity: int, overflow: Overflow = Overflow.REJECT) -> None:
        if capacity < 1:
            raise ValueError(f"BoundedMailbox capacity must be at least 1, was {capacity!r}")
        super().__init__()
        self.capacity = capacity
        self.overflow = overflow
        self._put_lock = threading.Lock()

    def _put_normal(self, envelope: Envelope[Any]) -> None:
        evicted: Envelope[Any] | None = None
        with self._put_lock:
            if len(self._queue) < self.capacity:
                self._queue.append(envelope)
                self._note_depth(len(self._queue))
                return
            if self.overflow is Overflow.DROP_OLDEST:
                evicted = self._take_normal()
                self._queue.append(envelope)
        if evicted is not None:
            self.on_drop(evicted, f"mailbox full ({self.capacity}), oldest evicted")
            return
        self.on_drop(envelope, f"mailbox full ({self.capacity})")
        if self.overflow is Overflow.REJECT:
            raise MailboxFullError(
                f"mailbox holds at most {self.capacity} messages and was full; "
                f"refused {type(envelope.message).__name__}"
            )


class ConflatingMailbox(Mailbox):
    """Keeps only the latest message per key; messages without a key stay FIFO.

    Order is by first arrival: a key keeps its place in the queue while newer values replace
    the queued one. Asks (messages with a reply) are never conflated.

    Args:
        key_of: the conflation key of a message, or None for a message that must not conflate.
    """

    def __init__(self, key_of: Callable[[Any], Hashable | None]) -> None:
        super().__init__()
        self._key_of = key_of
        self._order: deque[Hashable] = deque()  # keys and unkeyed-envelope tokens, in order
        self._latest: dict[Hashable, Envelope[Any]] = {}
        self._put_lock = threading.Lock()
        self.conflated = 0

    def _put_normal(self, envelope: Envelope[Any]) -> None:
        key = self._key_of(envelope.message) if envelope.reply_to is None else None
        slot: Hashable = key if key is not None else _Unkeyed(envelope)
        with self._put_lock:
            if slot in self._latest:
                self._latest[slot] = envelope
                self.conflated += 1
                return
            self._latest[slot] = envelope
            self._order.append(slot)
            self._note_depth(len(self._order))

    def _put_normal_front(self, envelope: Envelope[Any]) -> None:
        key = self._key_of(envelope.message) if envelope.reply_to is None else None
        slot: Hashable = key if key is not None else _Unkeyed(envelope)
        with self._put_lock:
            if slot in self._latest:
                return  # a newer value for this key is already queued: it wins
            self._latest[slot] = envelope
            self._order.appendleft(slot)

    def _take_normal(self) -> Envelope[Any] | None:
        with self._put_lock:
            if not self._order:
                return None
            return self._latest.pop(self._order.popleft())

    def _normal_depth(self) -> int:
        return len(self._order)


class _Unkeyed:
    """A queue slot for a message that must not conflate (identity-hashed)."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: Envelope[Any]) -> None:
        self.envelope = envelope
