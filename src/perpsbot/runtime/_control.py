"""Control messages of the runtime: served on the control lane, before any queued message.

Trading actors never see these; the base actor and the supervisor handle them. A message class
that subclasses :class:`ControlMessage` is routed to the control lane by every mailbox.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "ChildExited",
    "ConfigChanged",
    "ControlMessage",
    "GetState",
    "Ping",
    "Reconfigure",
    "RestartChild",
]


class ControlMessage:
    """Base of every message that must overtake queued work (stop, ping, state, config)."""

    __slots__ = ()


@attrs.frozen(kw_only=True)
class Ping(ControlMessage):
    """Watchdog probe; the base actor answers it by recording ``seq`` as its latest pong."""

    seq: int


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
class Reconfigure(ControlMessage):
    """Apply a new configuration (or only plan it when ``dry_run``); the reply is a ReloadPlan."""

    config: Any
    dry_run: bool = False
