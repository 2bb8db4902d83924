"""Control messages of the runtime: served on the control lane, before any queued message.

Trading actors never see these; the base actor and the supervisor handle them. A message class
that subclasses :class:`ControlMessage` is routed to the control lane by every mailbox.
"""

from __future__ import annotations

from typing import Any

import attrs
from pykka.messages import ProxyCall, ProxyGetAttr, ProxySetAttr

from perpsbot.runtime._pubsub import Subscribe, Unsubscribe
from perpsbot.runtime._pykka import ActorStop, Envelope

__all__ = [
    "CONTROL_TYPES",
    "SPECIAL_TYPES",
    "ChildExited",
    "ConfigChanged",
    "ControlMessage",
    "FailNow",
    "Flush",
    "GetState",
    "Ping",
    "Reconfigure",
    "RestartChild",
    "RestartChildNow",
]


#: Every ControlMessage class, filled in as they are defined: mailboxes route by
#: ``type(message) in CONTROL_TYPES``, one hash lookup instead of an isinstance walk.
CONTROL_TYPES: set[type] = {ActorStop}

#: What the actor loop must not hand straight to ``on_receive``: control messages, asks
#: (envelopes), pykka's proxy messages and subscriptions (handled in mailbox order).
SPECIAL_TYPES: set[type] = {
    *CONTROL_TYPES,
    Envelope,
    ProxyCall,
    ProxyGetAttr,
    ProxySetAttr,
    Subscribe,
    Unsubscribe,
}


class ControlMessage:
    """Base of every message that must overtake queued work (stop, ping, state, config)."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CONTROL_TYPES.add(cls)
        SPECIAL_TYPES.add(cls)


@attrs.frozen(kw_only=True)
class Ping(ControlMessage):
    """Watchdog probe; the base actor answers it by recording ``seq`` as its latest pong."""

    seq: int


@attrs.frozen(kw_only=True)
class Flush:
    """Asked to learn that an actor has handled everything queued before it.

    Deliberately *not* a control message: it travels the normal lane behind what was told
    before it (control messages queued meanwhile are served first anyway). The base actor
    answers it without calling ``on_receive``. See ``perpsbot.runtime.testing.wait_drained``.
    """


@attrs.frozen(kw_only=True)
class GetState(ControlMessage):
    """Ask an actor for a deep copy of its inspectable state."""


@attrs.frozen(kw_only=True)
class ConfigChanged(ControlMessage):
    """The configuration changed in sections this actor can apply without a restart."""

    config: Any
    changed_sections: frozenset[str]


@attrs.frozen(kw_only=True)
class ChildExited(ControlMessage):
    """A child ended on its own: it failed (a handler or start-up raised, or the watchdog found
    it hung) or it stopped itself.

    ``incarnation`` lets the supervisor ignore a report about an incarnation it already replaced.
    """

    name: str
    incarnation: int
    failed: bool
    reason: str
    error: BaseException | None = None


@attrs.frozen(kw_only=True)
class RestartChild(ControlMessage):
    """A supervisor's own timer: start the children waiting for restart, their backoff over."""

    generation: int


@attrs.frozen(kw_only=True)
class RestartChildNow(ControlMessage):
    """An operator's request: stop the child ``name`` and start its next incarnation at once.

    Not a failure: it does not count against the restart intensity. The reply is the new
    incarnation number.
    """

    name: str


@attrs.frozen(kw_only=True)
class FailNow(ControlMessage):
    """An operator's request, to the actor itself: its incarnation ``incarnation`` fails at
    once with ``ActorFailedOnRequestError(reason)``, ahead of any queued work, as if a handler
    had raised. Its supervisor restarts it like any failure, spending restart intensity.

    A successor that finds the request addressed to an ended incarnation refuses it. The reply
    is the incarnation that failed.
    """

    reason: str
    incarnation: int


@attrs.frozen(kw_only=True)
class Reconfigure(ControlMessage):
    """Apply a new configuration (or only plan it when ``dry_run``); the reply is a ReloadPlan."""

    config: Any
    dry_run: bool = False
