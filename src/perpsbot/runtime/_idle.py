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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from perpsbot.clock import SystemClock
from perpsbot.runtime._cell import Cell, CellState
from perpsbot.runtime._timers import Scheduler

__all__ = ["wait_until_idle"]

_REAL = SystemClock()  # the wait is in real time, whatever clock the system runs on
_FIRST_PAUSE_S = 0.0001
_MAX_PAUSE_S = 0.005

Progress = tuple[object, ...]


def _look(cells: Iterable[Cell], scheduler: Scheduler) -> tuple[list[str], Progress]:
    """What is busy now, and a record of progress that changes whenever anything moves."""
    busy: list[str] = []
    progress: list[object] = [scheduler.fired]
    for cell in cells:
        depth = cell.mailbox.depth()
        stats = cell.stats
        progress.append(
            (cell.path, cell.incarnation, stats.handled, stats.failures, cell.loops_ended, depth)
        )
        if cell.state is CellState.STOPPED or not cell.serving() or cell.mailbox.asleep():
            continue
        busy.append(f"{cell.path} ({depth} queued)" if depth else f"{cell.path} (in a handler)")
    due = scheduler.due()
    if due:
        busy.append(f"{due} timer(s) due or firing")
    progress.append(scheduler.fired)
    return busy, tuple(progress)


def wait_until_idle(
    cells: Callable[[], Iterable[Cell]], scheduler: Scheduler, timeout_s: float
) -> list[str]:
    """Wait (in real time, at most ``timeout_s``) until the actors ``cells()`` returns and
    ``scheduler`` are idle; returns what was still busy at the end, empty once idle."""
    deadline = _REAL.monotonic() + timeout_s
    pause = threading.Event()
    pause_s = _FIRST_PAUSE_S
    previous: Progress | None = None
    while True:
        busy, progress = _look(cells(), scheduler)
        if not busy and progress == previous:
            return []
        previous = None if busy else progress
        if _REAL.monotonic() >= deadline:
            return busy or ["nothing, but something moved between the last two looks"]
        pause.wait(pause_s)  # yields the GIL to the actors being waited for
        pause_s = min(pause_s * 2, _MAX_PAUSE_S)
