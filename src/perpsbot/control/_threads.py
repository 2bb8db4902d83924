"""A dump of every thread's stack, each actor thread named by the actor it runs, and a watch
that logs one when something (a process's stop) takes too long."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import FrameType

from perpsbot.runtime import BaseActor

__all__ = ["StallWatch", "thread_dump"]

_ACTOR_LOOP = BaseActor._runtime_loop.__code__  # the body of every actor thread


def _owner(frame: FrameType | None) -> str:
    """``actor bot/marks #2`` when ``frame``'s thread runs an actor's loop, else ``""``."""
    while frame is not None:
        if frame.f_code is _ACTOR_LOOP:
            actor = frame.f_locals.get("self")
            if isinstance(actor, BaseActor):
                return f"  [actor {actor.address.path} #{actor.context.incarnation}]"
        frame = frame.f_back
    return ""


def thread_dump() -> str:
    """Every live thread of the process, its owning actor (if any) and its stack."""
    frames = sys._current_frames()
    sections = []
    for thread in sorted(threading.enumerate(), key=lambda t: t.name):
        frame = frames.get(thread.ident or -1)
        kind = "daemon " if thread.daemon else ""
        header = f"{kind}thread {thread.name!r} (id {thread.ident}){_owner(frame)}"
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "  (no frame)\n"
        sections.append(f"{header}\n{stack}")
    return f"{len(sections)} threads\n\n" + "\n".join(sections)


class StallWatch:
    """Logs every thread's stack, once, if ``what`` has not ended ``after_s`` seconds after
    :meth:`start`: where a stop hangs is in the log without anyone sending SIGUSR1.

    As a context manager it is ended (the dump cancelled) on exit; :meth:`start` may never
    be called (nothing to watch) or be called once.
    """

    def __init__(self, what: str, *, after_s: float, logger: logging.Logger) -> None:
        self._what = what
        self._after_s = after_s
        self._logger = logger
        self._timer = threading.Timer(after_s, self._dump)
        self._timer.name = f"perpsbot-stall-watch ({what})"
        self._timer.daemon = True  # never what keeps a stopping process alive

    def start(self) -> None:
        self._timer.start()

    def end(self) -> None:
        self._timer.cancel()

    def __enter__(self) -> StallWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.end()

    def _dump(self) -> None:
        self._logger.warning(
            "%s: still not done after %.0fs; every thread:\n%s",
            self._what,
            self._after_s,
            thread_dump(),
        )
