"""Mailboxes: the inboxes behind every actor, plugged into pykka through its inbox hook.

Every mailbox has two lanes. The control lane (stop, ping, state, config) is always served
first and is never bounded or conflated. The normal lane differs per kind:

- :class:`FifoMailbox`: unbounded first-in first-out; the default.
- :class:`~perpsbot.runtime._conflating.ConflatingMailbox`: keeps only the latest message
  per key (market data).
- :class:`BoundedMailbox`: FIFO with a capacity and an explicit :class:`Overflow` policy.

A mailbox belongs to an actor's stable address, not to one incarnation, so messages queued
while an actor restarts are handled by its successor. Whatever a mailbox refuses is handed to
its ``on_drop`` callback, which records a dead letter.

Two things make a tell several times cheaper than pykka's stock ``queue.Queue``:

- a told message is queued as itself; only asks (and pykka's own API) carry an ``Envelope``;
- producers append to a deque (atomic under the GIL) and take a lock only to wake a consumer
  that announced it is asleep.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from perpsbot.errors import DeadLetterError
from perpsbot.runtime._control import CONTROL_TYPES
from perpsbot.runtime._pykka import Envelope

__all__ = [
    "BoundedMailbox",
    "CommandMailbox",
    "FifoMailbox",
    "Mailbox",
    "MailboxFullError",
    "Overflow",
]

#: A queued item: a told message as itself, or an Envelope for an ask.
Item = Any
DropCallback = Callable[[Item, str], None]


class MailboxFullError(DeadLetterError):
    """A bounded mailbox with the ``REJECT`` policy was full; the message was not queued."""


def _ignore_drop(item: Item, reason: str) -> None:
    """Default drop sink until the mailbox is attached to an address."""


def _nobody_waits() -> None:
    """Default sleep hook until the mailbox belongs to a system."""


def message_of(item: Item) -> Any:
    """The message inside a queued item."""
    return item.message if type(item) is Envelope else item


class Mailbox:
    """The control lane and the sleep/wake protocol shared by every mailbox kind.

    Subclasses implement ``_put_normal``, ``_put_normal_front``, ``_take_normal`` and
    ``_normal_depth``. There is exactly one consumer: the actor's thread.

    Args:
        priority: message classes of the application that also travel on the control lane
            (an operator's halt must overtake queued orders); the runtime's own control
            messages always do.
    """

    def __init__(self, *, priority: Iterable[type] = ()) -> None:
        extra = frozenset(priority)
        # Without extras, the live set: control classes defined later still route right.
        self._control_types: set[type] | frozenset[type] = (
            CONTROL_TYPES | extra if extra else CONTROL_TYPES
        )
        self._control: deque[Item] = deque()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._waiting = False
        self.max_depth = 0
        self.on_drop: DropCallback = _ignore_drop
        self.on_sleep: Callable[[], None] = _nobody_waits
        """Called (holding the mailbox's lock) as the consumer goes to sleep on an empty
        mailbox: its system's idle signal."""

    # -- producer side ---------------------------------------------------------------------

    def tell(self, message: Any) -> None:
        """Queue a told message on its lane and wake the consumer if it sleeps."""
        if type(message) in self._control_types:
            self._control.append(message)
        else:
            self._put_normal(message, message)
        if self._waiting:
            self._wake()

    def put(self, envelope: Envelope[Any], /) -> None:
        """pykka's inbox protocol: a tell is unwrapped, an ask keeps its envelope."""
        if envelope.reply_to is None:
            self.tell(envelope.message)
            return
        if type(envelope.message) in self._control_types:
            self._control.append(envelope)
        else:
            self._put_normal(envelope, envelope.message)
        if self._waiting:
            self._wake()

    def put_front(self, item: Item, /) -> None:
        """Return an item taken by a consumer that had to give it back (a retired thread)."""
        if type(message_of(item)) in self._control_types:
            self._control.appendleft(item)
        else:
            self._put_normal_front(item)
        if self._waiting:
            self._wake()

    def discard(self, item: Item, /) -> None:
        """Remove a queued control item if it is still there (a stop nobody took)."""
        with contextlib.suppress(ValueError):
            self._control.remove(item)

    def consumed_by_loop(self, on_put: Callable[[], None]) -> None:
        """Hand this mailbox to a calling-thread loop (``runtime/_calling_thread.py``): no
        thread ever sleeps on it, and ``on_put`` is called after each item is queued, in
        place of a sleeping consumer's wake-up."""
        self._waiting = True  # stays set (nobody sleeps), so every put calls on_put
        self._wake = on_put  # type: ignore[method-assign]

    def _wake(self) -> None:
        with self._lock:
            # The first producer to find the consumer asleep wakes it and clears the flag, so
            # the producers that follow before the consumer runs again (it needs the GIL, which
            # a busy producer holds for up to a switch interval) skip the lock entirely.
            if self._waiting:
                self._waiting = False
                self._wakeup.notify()

    # -- consumer side ---------------------------------------------------------------------

    def get(self) -> Item:
        """The next item, control lane first; blocks while both lanes are empty."""
        while True:
            if self._control:
                return self._control.popleft()
            item = self._take_normal()
            if item is not None:
                return item
            self._sleep()

    def _sleep(self) -> None:
        with self._lock:
            # Announce the wait before re-checking, so a producer that appends after our
            # check is guaranteed to see _waiting and notify.
            self._waiting = True
            try:
                if not self._control and not self._normal_depth():
                    self.on_sleep()
                    self._wakeup.wait()
            finally:
                self._waiting = False

    def empty(self) -> bool:
        return not self._control and not self._normal_depth()

    def asleep(self) -> bool:
        """True while the consumer waits on an empty mailbox: it is in no handler, and nothing
        is queued for it."""
        with self._lock:
            return self._waiting and not self._control and not self._normal_depth()

    def depth(self) -> int:
        """Messages waiting now, both lanes."""
        return len(self._control) + self._normal_depth()

    def drain(self) -> list[Item]:
        """Remove and return everything queued (used when an address closes for good)."""
        drained: list[Item] = []
        while self._control:
            drained.append(self._control.popleft())
        while (item := self._take_normal()) is not None:
            drained.append(item)
        return drained

    # -- the normal lane, per kind ---------------------------------------------------------

    def _put_normal(self, item: Item, message: Any) -> None:
        raise NotImplementedError

    def _put_normal_front(self, item: Item) -> None:
        raise NotImplementedError

    def _take_normal(self) -> Item | None:
        raise NotImplementedError

    def _normal_depth(self) -> int:
        raise NotImplementedError


class FifoMailbox(Mailbox):
    """Unbounded first-in first-out normal lane."""

    def __init__(self, *, priority: Iterable[type] = ()) -> None:
        super().__init__(priority=priority)
        self._queue: deque[Item] = deque()

    def tell(self, message: Any) -> None:
        # The hottest path of the runtime: inlined rather than delegated to _put_normal.
        if type(message) in self._control_types:
            self._control.append(message)
        else:
            queue = self._queue
            queue.append(message)
            self.max_depth = max(self.max_depth, len(queue))
        if self._waiting:
            self._wake()

    def get(self) -> Item:
        control, queue = self._control, self._queue
        while True:
            if control:
                return control.popleft()
            if queue:  # one consumer: nobody can empty it between the check and the pop
                return queue.popleft()
            self._sleep()

    def _put_normal(self, item: Item, message: Any) -> None:
        self._queue.append(item)
        self.max_depth = max(self.max_depth, len(self._queue))

    def _put_normal_front(self, item: Item) -> None:
        self._queue.appendleft(item)

    def _take_normal(self) -> Item | None:
        return self._queue.popleft() if self._queue else None

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

    def __init__(
        self,
        capacity: int,
        overflow: Overflow = Overflow.REJECT,
        *,
        priority: Iterable[type] = (),
    ) -> None:
        if capacity < 1:
            raise ValueError(f"BoundedMailbox capacity must be at least 1, was {capacity!r}")
        super().__init__(priority=priority)
        self.capacity = capacity
        self.overflow = overflow
        self._put_lock = threading.Lock()

    tell = Mailbox.tell  # the bound check lives in _put_normal

    def _put_normal(self, item: Item, message: Any) -> None:
        evicted: Item | None = None
        with self._put_lock:
            if len(self._queue) < self.capacity:
                super()._put_normal(item, message)
                return
            if self.overflow is Overflow.DROP_OLDEST:
                evicted = self._queue.popleft()
                self._queue.append(item)
        if evicted is not None:
            self.on_drop(evicted, f"mailbox full ({self.capacity}), oldest evicted")
            return
        self.on_drop(item, f"mailbox full ({self.capacity})")
        if self.overflow is Overflow.REJECT:
            raise MailboxFullError(
                f"mailbox holds at most {self.capacity} messages and was full; "
                f"refused {type(message).__name__}"
            )


class CommandMailbox(FifoMailbox):
    """FIFO that bounds only commands: at most ``capacity`` of the ``commands`` classes wait,
    and one more is refused to its sender with :class:`MailboxFullError` (and a dead letter);
    every other message (events, replies) is always queued, never dropped.

    For an actor whose commands may be refused with a clear reason while the events it must
    see (fills, order updates) are never lost: the executor's mailbox.

    Args:
        capacity: the most commands waiting at once.
        commands: the bounded message classes.
        priority: classes that travel on the control lane (see :class:`Mailbox`).
    """

    def __init__(
        self, capacity: int, commands: Iterable[type], *, priority: Iterable[type] = ()
    ) -> None:
        if capacity < 1:
            raise ValueError(f"CommandMailbox capacity must be at least 1, was {capacity!r}")
        both = sorted(c.__name__ for c in set(commands) & set(priority))
        if both:  # the control lane is unbounded: the count of waiting commands would drift
            raise ValueError(
                f"CommandMailbox commands must not travel on the control lane too, were {both}"
            )
        super().__init__(priority=priority)
        self.capacity = capacity
        self._commands = frozenset(commands)
        self._waiting_commands = 0
        self._count_lock = threading.Lock()

    tell = Mailbox.tell  # the bound check lives in _put_normal

    def get(self) -> Item:
        item = super().get()
        if type(message_of(item)) in self._commands:
            with self._count_lock:
                self._waiting_commands -= 1
        return item

    def _take_normal(self) -> Item | None:
        item = super()._take_normal()
        if item is not None and type(message_of(item)) in self._commands:
            with self._count_lock:
                self._waiting_commands -= 1
        return item

    def _put_normal(self, item: Item, message: Any) -> None:
        if type(message) in self._commands:
            with self._count_lock:
                full = self._waiting_commands >= self.capacity
                if not full:
                    self._waiting_commands += 1
            if full:
                reason = f"{self.capacity} commands already waiting"
                self.on_drop(item, reason)
                raise MailboxFullError(
                    f"mailbox holds at most {self.capacity} waiting commands and was full;"
                    f" refused {type(message).__name__}"
                )
        super()._put_normal(item, message)

    def _put_normal_front(self, item: Item) -> None:
        if type(message_of(item)) in self._commands:
            with self._count_lock:
                self._waiting_commands += 1
        super()._put_normal_front(item)
