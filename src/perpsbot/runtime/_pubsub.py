"""Publish/subscribe between actors: a publisher keeps subscriber addresses per topic.

An actor that starts before a publisher is handed to it at construction; one that starts
after it sends :class:`Subscribe`. Both end in the same :class:`Subscribers` set, which an
actor includes in its warm-restart snapshot so subscriptions survive its restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from perpsbot.runtime._cell import ActorAddress

__all__ = ["Subscribe", "Subscribers", "Unsubscribe"]


@attrs.frozen(kw_only=True)
class Subscribe:
    """Ask a publisher to tell ``subscriber`` every message of class ``topic``."""

    subscriber: ActorAddress
    topic: type


@attrs.frozen(kw_only=True)
class Unsubscribe:
    subscriber: ActorAddress
    topic: type


class Subscribers:
    """Subscriber addresses per topic, in subscription order, without duplicates."""

    def __init__(self, initial: Iterable[tuple[type, ActorAddress]] = ()) -> None:
        self._by_topic: dict[type, list[ActorAddress]] = {}
        for topic, address in initial:
            self.add(topic, address)

    def add(self, topic: type, address: ActorAddress) -> None:
        addresses = self._by_topic.setdefault(topic, [])
        if address not in addresses:
            addresses.append(address)

    def remove(self, topic: type, address: ActorAddress) -> None:
        addresses = self._by_topic.get(topic, [])
        if address in addresses:
            addresses.remove(address)

    def apply(self, message: Subscribe | Unsubscribe) -> None:
        """Handle a Subscribe or Unsubscribe message."""
        if isinstance(message, Subscribe):
            self.add(message.topic, message.subscriber)
        else:
            self.remove(message.topic, message.subscriber)

    def publish(self, message: Any) -> None:
        """Tell ``message`` to every subscriber of its class."""
        for address in self._by_topic.get(type(message), ()):
            address.tell(message)

    def __iter__(self) -> Any:
        for topic, addresses in self._by_topic.items():
            for address in addresses:
                yield topic, address

    def paths(self) -> dict[str, list[str]]:
        """Subscriber paths per topic name, for inspection."""
        return {t.__name__: [a.path for a in addrs] for t, addrs in self._by_topic.items()}
