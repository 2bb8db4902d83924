"""Watching actors: be told when another actor goes down and when it is up again.

An actor that must behave differently while a peer restarts (risk holds trading at REDUCING
while the executor or the streamer is restarting) watches the peer's path. It is told
:class:`ActorDown` when an incarnation of the watched actor ends (failed, hung, stopped) and
:class:`ActorUp` once a new incarnation finished ``on_start``. Both travel on the control
lane. A path may be watched before its actor exists (an earlier sibling watching a later one).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import attrs

from perpsbot.runtime._control import ControlMessage

if TYPE_CHECKING:
    from perpsbot.runtime._pubsub import Recipient

__all__ = ["ActorDown", "ActorUp", "Watchers"]

logger = logging.getLogger("perpsbot.runtime.watch")


@attrs.frozen(kw_only=True)
class ActorDown(ControlMessage):
    """The watched actor's incarnation ``incarnation`` ended; ``final`` if none will follow."""

    path: str
    incarnation: int
    final: bool


@attrs.frozen(kw_only=True)
class ActorUp(ControlMessage):
    """Incarnation ``incarnation`` of the watched actor finished ``on_start``."""

    path: str
    incarnation: int


class Watchers:
    """Watcher addresses per watched path, for one actor system (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, list[Recipient]] = {}
        self.enabled = True

    def add(self, path: str, watcher: Recipient) -> None:
        with self._lock:
            watchers = self._by_path.setdefault(path, [])
            if watcher not in watchers:
                watchers.append(watcher)

    def remove(self, path: str, watcher: Recipient) -> None:
        with self._lock:
            watchers = self._by_path.get(path, [])
            if watcher in watchers:
                watchers.remove(watcher)

    def down(self, path: str, incarnation: int, *, final: bool) -> None:
        self._tell(path, ActorDown(path=path, incarnation=incarnation, final=final))

    def up(self, path: str, incarnation: int) -> None:
        self._tell(path, ActorUp(path=path, incarnation=incarnation))

    def _tell(self, path: str, message: ActorDown | ActorUp) -> None:
        if not self.enabled:
            return
        with self._lock:
            watchers = list(self._by_path.get(path, ()))
        for watcher in watchers:
            if watcher.path == path:
                continue
            try:
                watcher.tell(message)
            except Exception:
                # A watcher is any Recipient (a host's actor, the control plane). This runs in
                # the middle of a start, a failure or the watchdog's verdict: one broken
                # watcher must not stop the restart, nor leave the others uninformed.
                logger.exception(
                    "watcher %s of %s failed to take %s", watcher.path, path, type(message).__name__
                )
