"""Typed reads of actors' states: ``system.state(path)`` checked against the class its
reader expects.

The runtime answers an inspection with whatever the actor's ``inspect_state`` returns (it
knows nothing of the actors' classes); a reader names the class it was written for, so a
wrong actor at a path, or a reply class that changed, fails here by name instead of as a
missing attribute further on.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from perpsbot.errors import PerpsbotError, StateTypeError
from perpsbot.runtime import ActorSystem

__all__ = ["state_as", "state_or_none"]

logger = logging.getLogger("perpsbot.control.states")

T = TypeVar("T")


def _checked(path: str, reply: object, kind: type[T]) -> T:
    if not isinstance(reply, kind):
        raise StateTypeError(
            f"the state of {path} must be a {kind.__name__}, was a {type(reply).__name__}"
        )
    return reply


def state_as(system: ActorSystem, path: str, kind: type[T], *, timeout_s: float = 2.0) -> T:
    """The state of the actor at ``path``, which must be a ``kind``.

    Raises:
        StateTypeError: the actor answered with another class.
        ActorNotFoundError, AskTimeoutError: as :meth:`ActorSystem.state`.
    """
    return _checked(path, system.state(path, timeout_s=timeout_s), kind)


def state_or_none(
    system: ActorSystem, path: str, kind: type[T], *, timeout_s: float = 1.0
) -> T | None:
    """The state of the actor at ``path`` (a ``kind``), or None while it is restarting or
    not answering.

    Raises:
        StateTypeError: the actor answered with another class (not a passing condition, so
            never None).
    """
    try:
        reply = system.state(path, timeout_s=timeout_s)
    except PerpsbotError as error:
        logger.debug("no state from %s: %s", path, error)
        return None
    return _checked(path, reply, kind)
