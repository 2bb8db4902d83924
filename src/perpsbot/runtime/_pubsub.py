"""Publish/subscribe between actors, owned by the runtime.

Who is told what is declared once, in a supervisor's :class:`~perpsbot.runtime.Wiring`; the
supervisor enters it into each publisher's :class:`Subscribers`, which belongs to the
publisher's cell and so outlives its incarnations: a restarted publisher needs no
re-subscription, and subscribers are told through their stable addresses, so a restarted
subscriber keeps receiving (what it is told while it restarts waits in its restart buffer).
An actor publishes with :meth:`BaseActor.publish`; no actor keeps subscriber lists.

What is really dynamic (the operator's ``watch``, a host application's actor) sends the
publisher :class:`Subscribe` / :class:`Unsubscribe`; the runtime handles them in the
publisher's mailbox order, the actor never sees them.

A subscriber is any :class:`Recipient`: one of our actors' addresses, or a host
application's pykka actor through ``ActorSystem.host_address``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
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
    """Ask a publisher to tell ``subscriber`` every message of class ``topic`` (a topic
    declared ``latest`` also tells it the latest one at once)."""

    subscriber: Recipient
    topic: type


@attrs.frozen(kw_only=True)
class Unsubscribe:
    subscriber: Recipient
    topic: type


class Subscribers:
    """One publisher's subscriber addresses per topic, in subscription order, without
    duplicates (internal to the runtime: the publisher's cell holds it).

    Entered by the publisher's supervisor (its wiring) and by ``Subscribe`` messages, read by
    the publisher's thread on every publish: changes replace the topic's tuple, so a publish
    reads it without a lock. For a ``latest`` topic the latest message published by the
    current incarnation is kept, and told to a subscriber when it starts or subscribes.
    """

    def __init__(self) -> None:
        self._by_topic: dict[type, tuple[Recipient, ...]] = {}
        self._keeps_latest: frozenset[type] = frozenset()
        self._latest: dict[type, Any] = {}
        self._lock = threading.Lock()

    def add(self, topic: type, address: Recipient, *, latest: bool = False) -> None:
        """Tell ``address`` every ``topic`` published from now on."""
        with self._lock:
            addresses = self._by_topic.get(topic, ())
            if address not in addresses:
                self._by_topic[topic] = (*addresses, address)
            if latest:
                self._keeps_latest |= {topic}

    def remove(self, topic: type, address: Recipient) -> None:
        with self._lock:
            addresses = self._by_topic.get(topic, ())
            if address in addresses:
                self._by_topic[topic] = tuple(a for a in addresses if a != address)

    def apply(self, message: Subscribe | Unsubscribe) -> None:
        """Handle a Subscribe (telling a ``latest`` topic's latest message) or Unsubscribe."""
        if isinstance(message, Unsubscribe):
            self.remove(message.topic, message.subscriber)
            return
        self.add(message.topic, message.subscriber)
        with self._lock:
            if message.topic in self._latest:
                _deliver(message.subscriber, self._latest[message.topic])

    def publish(self, message: Any) -> None:
        """Tell ``message`` to every subscriber of its class.

        A subscriber that cannot take it (a full mailbox that refuses, a broken handle) is
        skipped, never raised to the publisher: one subscriber must not fail the publisher's
        handler, restart it and, restart after restart, escalate the tree.
        """
        topic = type(message)
        if topic in self._keeps_latest:
            # Held while telling, so a subscriber told the latest as it starts gets it after
            # anything older (one lock per publisher, taken only for such topics).
            with self._lock:
                self._latest[topic] = message
                for address in self._by_topic.get(topic, ()):
                    _deliver(address, message)
            return
        for address in self._by_topic.get(topic, ()):  # _deliver inlined: the marks' path
            try:
                address.tell(message)
            except DeadLetterError:
                pass  # a full mailbox that refuses: recorded as a dead letter already
            except Exception:
                # Logged with the error; the publisher and the other subscribers go on.
                logger.exception(
                    "subscriber %s failed to take %s", address.path, type(message).__name__
                )

    def tell_latest(self, address: Recipient) -> None:
        """Tell ``address`` the latest message of each ``latest`` topic it subscribes to."""
        with self._lock:
            for topic, message in self._latest.items():
                if address in self._by_topic.get(topic, ()):
                    _deliver(address, message)

    def forget_latest(self) -> None:
        """The publishing incarnation ended: what it published is no longer current."""
        with self._lock:
            self._latest.clear()

    def __iter__(self) -> Iterator[tuple[type, Recipient]]:
        for topic, addresses in list(self._by_topic.items()):
            for address in addresses:
                yield topic, address

    def paths(self) -> dict[str, tuple[str, ...]]:
        """Subscriber paths per topic name, for inspection (topics without any left out)."""
        return {
            t.__name__: tuple(a.path for a in addrs) for t, addrs in self._by_topic.items() if addrs
        }


def _deliver(address: Recipient, message: Any) -> None:
    try:
        address.tell(message)
    except DeadLetterError:
        pass  # a full mailbox that refuses: recorded as a dead letter already
    except Exception:
        # Logged with the error; the publisher and the other subscribers go on.
        logger.exception("subscriber %s failed to take %s", address.path, type(message).__name__)
