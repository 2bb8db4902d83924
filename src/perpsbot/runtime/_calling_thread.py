"""Execution modes: a thread per actor, or every handler on the thread that runs the loop.

In the calling-thread mode (``ActorSystem(execution=Execution.CALLING_THREAD)``) no actor has
a thread. The system's :class:`CallingThreadLoop` hands queued messages to the actors' handlers
on whichever thread runs it: ``system.wait_idle()`` runs it until every mailbox is empty
("the loop ran dry"), an ask runs it until the reply is there, stopping an actor runs it
until the actor has stopped, and starting one runs its ``on_start`` at once. A message hop
then costs a queue append and a call instead of a thread's wake-up, and the order in which
handlers run is the loop's, not the operating system's: a backtest's driver runs the bot's
tree so.

The loop goes round the actors in the order they were created (a supervisor before its
children, siblings in the order of its spec) and hands each actor that has something queued
its next message, control lane first; it repeats the round until a round finds nothing to do.
A handler may make the loop run again (a supervisor that stops or starts a child, an
actor's stop that tells another): the inner run passes over every actor whose handler is
already on the stack, as a thread-per-actor system would find those actors busy. One thread
at a time runs the loop; a tell from any other thread is queued and handled in the next
round that thread or the loop's owner runs.

What the mode rules out, checked when the system is built: a timer thread (the thread that
runs the loop also fires the timers, ``driven_timers=True``) and the watchdog (a handler that
hangs, hangs its caller, and nothing could restart it).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from perpsbot.clock import SystemClock
from perpsbot.ids import acting_as

if TYPE_CHECKING:
    from perpsbot.runtime._actor import BaseActor
    from perpsbot.runtime._cell import Cell

__all__ = ["CallingThreadLoop", "Execution"]

_REAL = SystemClock()  # a run's timeout is in real time, whatever clock the system runs on


class Execution(enum.Enum):
    """Which threads run an actor system's handlers."""

    THREADS = "threads"
    """A thread per actor (pykka's threading actor): the default, and what a live bot runs."""
    CALLING_THREAD = "calling_thread"
    """No actor thread: the thread that runs the system's loop (``wait_idle``, an ask, a
    stop) runs the handlers, one message at a time in a fixed order (see the module)."""


class CallingThreadLoop:
    """The run loop of a calling-thread system over the cells ``cells()`` returns, in order.

    Args:
        cells: every cell of the system, in the order they were created.
    """

    def __init__(self, cells: Callable[[], Sequence[Cell]]) -> None:
        self._cells = cells
        self._lock = threading.RLock()
        self._on_stack: set[Cell] = set()  # cells whose handler runs further up the stack

    def start(self, cell: Cell, actor: BaseActor) -> None:
        """Start ``actor``, the new incarnation of ``cell``: its ``on_start``, here and now."""
        with self._lock:
            self._on_stack.add(cell)
            previous = acting_as(type(actor).__name__)
            try:
                actor.start_here()
            finally:
                acting_as(previous)
                self._on_stack.discard(cell)

    def run(self, *, timeout_s: float, until: Callable[[], bool] | None = None) -> list[str]:
        """Handle messages round after round until a round finds nothing to do, or
        ``until()`` holds (checked after each message), or ``timeout_s`` (real time) passed.

        Returns what was still queued when the time ran out, and the actors whose handler is
        on the stack if they have something queued; empty otherwise.
        """
        deadline = _REAL.monotonic() + timeout_s
        with self._lock:
            while True:
                if until is not None and until():
                    return []
                handled = self._round(until)
                if not handled:
                    return self._waiting(on_stack_only=True)
                if _REAL.monotonic() > deadline:
                    return self._waiting(on_stack_only=False)

    def _round(self, until: Callable[[], bool] | None) -> bool:
        handled = False
        on_stack = self._on_stack
        for cell in self._cells():
            actor = cell.actor
            if actor is None or not cell.mailbox.depth() or cell in on_stack or not cell.serving():
                continue
            self._serve(cell, actor, cell.mailbox.get())
            handled = True
            if until is not None and until():
                return True
        return handled

    def _serve(self, cell: Cell, actor: BaseActor, item: Any) -> None:
        self._on_stack.add(cell)
        previous = acting_as(type(actor).__name__)
        try:
            actor.serve_here(item)
        finally:
            acting_as(previous)
            self._on_stack.discard(cell)

    def _waiting(self, *, on_stack_only: bool) -> list[str]:
        return [
            f"{cell.path} ({depth} queued"
            + (", its handler on the stack)" if cell in self._on_stack else ")")
            for cell in self._cells()
            if (depth := cell.mailbox.depth())
            and cell.serving()
            and (cell in self._on_stack or not on_stack_only)
        ]
