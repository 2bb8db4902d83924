"""Execution modes: a thread per actor, or every handler on the thread that runs the loop.

In the calling-thread mode (``ActorSystem(execution=Execution.CALLING_THREAD)``) no actor has
a thread. The system's :class:`CallingThreadLoop` hands queued messages to the actors' handlers
on whichever thread runs it: ``system.wait_idle()`` runs it until every mailbox is empty
("the loop ran dry"), an ask runs it until the reply is there, stopping an actor runs it
until the actor has stopped, and starting one runs its ``on_start`` at once. A message hop
then costs a queue append and a call instead of a thread's wake-up, and the order in which
handlers run is the loop's, not the operating system's: a backtest's driver runs the bot's
tree so.

The loop hands the actors their messages in the order they were queued: each message told
or asked earns its actor a turn in one queue of the whole system, and a turn handles the
actor's next message (control lane first). A handler may make the loop run again (a
supervisor that stops or starts a child, an actor's stop that tells another): the inner run
passes over every actor whose handler is already on the stack, as a thread-per-actor system
would find those actors busy, and over one between incarnations; such an actor's turn is
spent with its message still queued, and the loop remembers it. When the queue of turns is
empty and some turn was spent so, the loop goes round all the actors in the order they were
created (a supervisor before its children, siblings in the order of its spec), a message
each, until a round finds every mailbox empty; when none was, there is nothing a round could
find (every message queued still has its turn) and the loop has run dry at once, at no cost
per actor (a backtest waits for idle after every event). One thread at a time runs the loop;
a tell from any other thread is queued and handled when the loop next runs.

What the mode rules out, checked when the system is built: a timer thread (the thread that
runs the loop also fires the timers, ``driven_timers=True``) and the watchdog (a handler that
hangs, hangs its caller, and nothing could restart it).
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

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
        self._turns: deque[Cell] = deque()  # a turn per message queued, in queuing order
        self._on_stack: set[Cell] = set()  # cells whose handler runs further up the stack
        self._missed: set[Cell] = set()  # cells that may hold a message whose turn was spent

    def attach(self, cell: Cell) -> None:
        """Serve ``cell``'s mailbox: each message queued there earns it a turn."""
        turns = self._turns
        cell.mailbox.consumed_by_loop(lambda: turns.append(cell))

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

    def handling(self, cell: Cell) -> bool:
        """True while ``cell``'s actor's handler runs, further up the stack of the loop's
        thread: the loop cannot hand it anything until it returns."""
        return cell in self._on_stack

    def run(self, *, timeout_s: float, until: Callable[[], bool] | None = None) -> list[str]:
        """Handle messages until the loop runs dry, or ``until()`` holds (checked after each
        message), or ``timeout_s`` (real time) passed.

        Returns what was still queued when the time ran out, and the actors whose handler is
        on the stack if they have something queued; empty otherwise.
        """
        deadline = _REAL.monotonic() + timeout_s
        with self._lock:
            while True:
                if until is not None and until():
                    return []
                if not self._take_turns(until, deadline) and not self._round(until):
                    return self._waiting(on_stack_only=True) if self._on_stack else []
                if _REAL.monotonic() > deadline:
                    return self._waiting(on_stack_only=False)

    def _take_turns(self, until: Callable[[], bool] | None, deadline: float) -> bool:
        turns = self._turns
        monotonic = _REAL.monotonic
        handled = False
        while turns:
            cell = turns.popleft()
            if self._serve_next(cell):
                handled = True
                if (until is not None and until()) or monotonic() > deadline:
                    break
        return handled

    def _round(self, until: Callable[[], bool] | None) -> bool:
        """A message for each actor with one, in creation order; only if some turn was spent
        (see the module): otherwise every mailbox is empty once the turns are."""
        missed = self._missed
        if not missed:
            return False
        handled = False
        for cell in self._cells():
            served = self._serve_next(cell)
            if cell.mailbox.depth():  # kept until a round finds it empty, turns spent or not
                missed.add(cell)
            else:
                missed.discard(cell)
            if served:
                handled = True
                if until is not None and until():
                    return True
        return handled

    def _serve_next(self, cell: Cell) -> bool:
        """Hand ``cell``'s actor its next message, if it has one and may take it now;
        remember the cell if it has one and may not."""
        mailbox = cell.mailbox
        if not mailbox.depth():
            return False
        actor = cell.actor
        if actor is None or cell in self._on_stack or not cell.serving():
            self._missed.add(cell)
            return False
        self._on_stack.add(cell)
        previous = acting_as(type(actor).__name__)
        try:
            actor.serve_here(mailbox.get())
        finally:
            acting_as(previous)
            self._on_stack.discard(cell)
        return True

    def _waiting(self, *, on_stack_only: bool) -> list[str]:
        return [
            f"{cell.path} ({depth} queued"
            + (", its handler on the stack)" if cell in self._on_stack else ")")
            for cell in self._cells()
            if (depth := cell.mailbox.depth())
            and cell.serving()
            and (cell in self._on_stack or not on_stack_only)
        ]
