"""The conflating mailbox: the latest message per key, for market data that must never
queue without bound."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from perpsbot.runtime._mailbox import Item, Mailbox, message_of
from perpsbot.runtime._pykka import Envelope

__all__ = ["ConflatingMailbox"]


class ConflatingMailbox(Mailbox):
    """Keeps only the latest message per key; messages without a key stay FIFO.

    Order is by first arrival: a key keeps its place in the queue while newer values replace
    the queued one. Asks (messages with a reply) are never conflated.

    Args:
        key_of: the conflation key of a message, or None for a message that must not conflate.
    """

    def __init__(
        self, key_of: Callable[[Any], Hashable | None], *, priority: Iterable[type] = ()
    ) -> None:
        super().__init__(priority=priority)
        self._key_of = key_of
        self._order: deque[Hashable] = deque()  # keys and unkeyed-item tokens, in order
        self._latest: dict[Hashable, Item] = {}
        self._put_lock = threading.Lock()
        self.conflated = 0

    def _slot(self, item: Item, message: Any) -> Hashable:
        key = self._key_of(message) if type(item) is not Envelope else None
        return key if key is not None else _Unkeyed()

    def _put_normal(self, item: Item, message: Any) -> None:
        slot = self._slot(item, message)
        with self._put_lock:
            if slot in self._latest:
                self._latest[slot] = item
                self.conflated += 1
                return
            self._latest[slot] = item
            self._order.append(slot)
            self.max_depth = max(self.max_depth, len(self._order))

    def _put_normal_front(self, item: Item) -> None:
        slot = self._slot(item, message_of(item))
        with self._put_lock:
            if slot in self._latest:
                return  # a newer value for this key is already queued: it wins
            self._latest[slot] = item
            self._order.appendleft(slot)

    def _take_normal(self) -> Item | None:
        with self._put_lock:
            if not self._order:
                return None
            return self._latest.pop(self._order.popleft())

    def _normal_depth(self) -> int:
        return len(self._order)


class _Unkeyed:
    """A queue slot for a message that must not conflate (hashed by identity)."""

    __slots__ = ()
