"""A dump of every thread's stack, each actor thread named by the actor it runs."""

from __future__ import annotations

import sys
import threading
import traceback
from types import FrameType

from perpsbot.runtime import BaseActor

__all__ = ["thread_dump"]

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
