"""Quiescence: the moment nothing in an actor system moves until something outside it acts.

An actor system is idle when every actor's thread waits on an empty mailbox (none is in a
handler or in ``on_start``), no timer is due on its clock and no timer callback runs. An actor
between incarnations counts as idle: its supervisor, or a backoff timer, moves next, and both
are watched. Threads the runtime does not run (a websocket feed's, a server's, the caller's)
are not seen: what they tell makes the system busy only once it is queued.

One look at every actor is not enough, since an actor looked at first may be told something by
one looked at later. So the system counts as idle only after two looks in a row find everything
idle and nothing in between handled a message, ended a thread, fired a timer or queued
anything.

The waiter does not poll: after a look that found something busy it sleeps until the runtime
signals that something may have settled (:class:`IdleSignal`: an actor went to sleep on an
empty mailbox, an actor's thread left its loop, a timer callback ended), then looks again. A
signal costs nothing while nobody waits. While the system stays busy a settle costs the waiter
little: it first checks the one thing its last look found busy, and a look stops at the first
thing busy; only a look that finds everything idle reads every actor's progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from perpsbot.clock import SystemClock
from perpsbot.runtime._cell import Cell, CellState
from perpsbot.runtime._timers import Scheduler

__all__ = ["IdleSignal", "wait_until_idle"]

_REAL = SystemClock()  # the wait is in real time, whatever clock the system runs on
# The longest wait between two looks: what the runtime does not signal (a thread outside
# it, a timer thread on a real clock) is still seen within this.
_MAX_PAUSE_S = 0.005


class IdleSignal:
    """Where the runtime says that something may have settled, for whoever waits for idle.

    The runtime calls :meth:`settled` each time an actor goes to sleep on an empty mailbox, an
    actor's thread leaves its loop and a timer callback ends. Each call while a waiter waits
    moves :meth:`generation` on and wakes it; a call while nobody waits is one attribute read.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._generation = 0
        self._waiters = 0

    def settled(self) -> None:
        """Something may have become idle (called by the runtime, on any thread)."""
        if self._waiters:
            with self._condition:
                self._generation += 1
                self._condition.notify_all()

    def generation(self) -> int:
        """Moves on with every :meth:`settled` while a waiter waits."""
        return self._generation

    def watch(self) -> None:
        """Start counting :meth:`settled` calls (before the first look)."""
        with self._condition:
            self._waiters += 1

    def unwatch(self) -> None:
        with self._condition:
            self._waiters -= 1

    def wait_past(self, generation: int, timeout_s: float) -> None:
        """Return once :meth:`generation` is past ``generation``, or after ``timeout_s``."""
        with self._condition:
            if self._generation == generation:
                self._condition.wait(timeout_s)


Progress = tuple[object, ...]
#: What a look found busy: an actor's cell, or the scheduler (a timer due or firing).
Busy = Cell | Scheduler


def _cell_busy(cell: Cell) -> bool:
    return not (cell.state is CellState.STOPPED or not cell.serving() or cell.mailbox.asleep())


def _still_busy(found: Busy | None) -> bool:
    """Whether what a look found busy still is: one check, where a look checks everything."""
    if found is None:
        return False
    if isinstance(found, Scheduler):
        return found.due() > 0
    return _cell_busy(found)


def _look(cells: Iterable[Cell], scheduler: Scheduler) -> tuple[Busy | None, Progress]:
    """The first thing busy now (the look stops there); or None, with a record of progress
    that changes whenever anything moves."""
    progress: list[object] = [scheduler.fired]
    for cell in cells:
        if _cell_busy(cell):
            return cell, ()
        stats = cell.stats
        progress.append(
            (
                cell.path, cell.incarnation, stats.handled, stats.failures, cell.loops_ended,
                cell.mailbox.depth(),
            )
        )  # fmt: skip
    if scheduler.due():
        return scheduler, ()
    progress.append(scheduler.fired)
    return None, tuple(progress)


def _busy_names(cells: Iterable[Cell], scheduler: Scheduler) -> list[str]:
    """Everything busy now, by name (for the error of a wait that timed out)."""
    busy: list[str] = []
    for cell in cells:
        if _cell_busy(cell):
            depth = cell.mailbox.depth()
            busy.append(f"{cell.path} ({depth} queued)" if depth else f"{cell.path} (in a handler)")
    due = scheduler.due()
    if due:
        busy.append(f"{due} timer(s) due or firing")
    return busy


def wait_until_idle(
    cells: Callable[[], Iterable[Cell]],
    scheduler: Scheduler,
    timeout_s: float,
    signal: IdleSignal,
) -> list[str]:
    """Wait (in real time, at most ``timeout_s``) until the actors ``cells()`` returns and
    ``scheduler`` are idle; returns what was still busy at the end, empty once idle.
    ``signal`` is the one the runtime of those cells tells when something settles."""
    deadline = _REAL.monotonic() + timeout_s
    previous: Progress | None = None
    found: Busy | None = None
    progress: Progress = ()
    signal.watch()
    try:
        while True:
            generation = signal.generation()  # before the look: nothing settles unseen
            if not _still_busy(found):  # else a look would find the system busy too
                found, progress = _look(cells(), scheduler)
                if found is None and progress == previous:
                    return []
            left_s = deadline - _REAL.monotonic()
            if left_s <= 0:
                busy = _busy_names(cells(), scheduler)
                return busy or ["nothing, but something moved between the last two looks"]
            if found is not None or previous is not None:
                # Busy: wait until something settles. Idle twice but moved in between: let
                # what moves run before the next look.
                signal.wait_past(generation, min(left_s, _MAX_PAUSE_S))
            previous = None if found is not None else progress
    finally:
        signal.unwatch()
