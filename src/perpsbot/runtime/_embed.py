"""Embedding: an actor system inside a host application built on plain pykka actors.

What a host can do:

- Start a tree in its own :class:`~perpsbot.runtime.ActorSystem`. Our actors never enter
  pykka's process-global ``ActorRegistry``, and a failure of ours, ``SystemExit`` included,
  never reaches pykka's ``stop_all()``: stopping or crashing the tree leaves host actors
  running.
- Tell our actors from any thread through their stable addresses,
  ``system.address("bot/marks").tell(...)``; they survive restarts.
- Subscribe a pykka actor to our events: ``system.host_address(actor_ref)`` returns a
  :class:`HostAddress`, which publishers tell like any of our addresses::

      marks = system.address("bot/marks")
      marks.tell(Subscribe(subscriber=system.host_address(self.actor_ref), topic=MarksSampled))

  The runtime keeps the subscription across the publisher's restarts.

Shutting down. ``ActorRegistry.stop_all()`` does not see our actors, so it neither stops the
tree nor waits for it. Either shut the system down yourself (``system.shutdown()``, or
``with ActorSystem(...)``), or start a :class:`SystemAnchor` for it: a plain pykka actor, in
the registry, whose ``on_stop`` shuts the system down, so that the host's usual
``stop_all()`` stops the tree too (``stop_all`` goes in reverse start order: start the anchor
after your subscribers and the tree stops before them). Every thread of ours is a daemon
thread: a host that does neither still exits, but our actors' ``on_stop`` never runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pykka

from perpsbot.runtime._deadletters import DeadLetters

if TYPE_CHECKING:
    from perpsbot.runtime._system import ActorSystem

__all__ = ["HostAddress", "SystemAnchor"]


class HostAddress:
    """A host application's pykka actor, addressed as one of ours: what publishers tell.

    Made by :meth:`ActorSystem.host_address`. Two handles to the same actor are equal, so
    ``Unsubscribe`` with a fresh handle removes the subscription.

    Args:
        actor_ref: the host actor.
        dead_letters: where messages go once the host actor has stopped.
        name: shown in ``path`` (``host/<name>``); the actor's class name by default.
    """

    __slots__ = ("_dead_letters", "_ref", "path")

    def __init__(
        self, actor_ref: pykka.ActorRef[Any], *, dead_letters: DeadLetters, name: str | None = None
    ) -> None:
        self._ref = actor_ref
        self._dead_letters = dead_letters
        self.path = f"host/{name or actor_ref.actor_class.__name__}"

    def tell(self, message: Any) -> None:
        """Deliver ``message`` to the host actor; once it has stopped, a dead letter."""
        try:
            self._ref.tell(message)
        except pykka.ActorDeadError:
            self._dead_letters.record(self.path, "host actor stopped", message)

    def is_alive(self) -> bool:
        return self._ref.is_alive()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostAddress) and other._ref.actor_urn == self._ref.actor_urn

    def __hash__(self) -> int:
        return hash(self._ref.actor_urn)

    def __repr__(self) -> str:
        return f"HostAddress({self.path!r})"


class SystemAnchor(pykka.ThreadingActor):
    """Ties an :class:`ActorSystem` to a host's pykka lifecycle: stopping it (for example by
    ``pykka.ActorRegistry.stop_all()``) shuts the system down.

    Start it with ``SystemAnchor.start(system)``; the system's escalations are the host's to
    watch (``on_escalation`` or :meth:`ActorSystem.wait_for_escalation`), the anchor keeps
    running through them.
    """

    def __init__(self, system: ActorSystem) -> None:
        super().__init__()
        self._system = system

    def on_stop(self) -> None:
        self._system.shutdown()
