"""Publish/subscribe between actors: a publisher keeps subscriber addresses per topic.

An actor that starts before a publisher is handed to it at construction; one that starts
after it sends :class:`Subscribe`. Both end in the same :class:`Subscribers` set, which an
actor includes in its warm-restart snapshot so subscriptions survive its restarts.

A subscriber is any :class:`Recipient`: one of our actors' addresses, or a host
application's pykka actor through ``ActorSystem.host_address``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

import attrs

from perpsbot.errors import DeadLetterError

__all__ = ["Recipient", "Subscribe", "Subscribers", "Unsubscribe"]

logger = logging.getLogger("perpsbot.runtime.pubsub")


class Recipient(Protocol):
    """What a publisher tells: an :class:`ActorAddress` or a :class:`HostAddress`."""

    @property
    def path(self) -> str:
        """Where it is, for logs and inspection (``bot/reporter``, ``host/Logger``)."""
        ...

    def tell(self, message: Any) -> None:
        """Deliver without waiting; what cannot be delivered becomes a dead letter."""
        ...


@attrs.frozen(kw_only=True)
class Subscribe:
    """Ask a publisher to tell ``subscriber`` every message of class ``topic``."""

    subscriber: Recipient
    topic: type


@attrs.frozen(kw_only=True)
class Unsubscribe:
    subscriber: Recipient
    topic: type


class Subscribers:
    """Subscriber addresses per topic, in subscription order, without duplicates."""

    def __init__(self, initial: Iterable[tuple[type, Recipient]] = ()) -> None:
        self._by_topic: dict[type, list[Recipient]] = {}
        for topic, address in initial:
            self.add(topic, address)

    def add(self, topic: type, address: Recipient) -> None:
        addresses = self._by_topic.setdefault(topic, [])
        if address not in addresses:
            addresses.append(address)

    def remove(self, topic: type, address: Recipient) -> None:
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
        """Tell ``message`` to every subscriber of its class.

        A subscriber that cannot take it (a full mailbox that refuses, a broken handle) is
        skipped, never raised to the publisher: one subscriber must not fail the publisher's
        handler, restart it and, restart after restart, escalate the tree.
        """
        for address in self._by_topic.get(type(message), ()):
            try:
                address.tell(message)
            except DeadLetterError:
                pass  # a full mailbox that refuses: recorded as a dead letter already
            except Exception:
                # Logged with the error; the publisher and the other subscribers go on.
                logger.exception(
                    "subscriber %s failed to take %s", address.path, type(message).__name__
                )

    def __iter__(self) -> Any:
        for topic, addresses in self._by_topic.items():
            for address in addresses:
                yield topic, address

    def paths(self) -> dict[str, list[str]]:
        """Subscriber paths per topic name, for inspection."""
        return {t.__name__: [a.path for a in addrs] for t, addrs in self._by_topic.items()}
