"""Timers: one scheduler thread per actor system tells messages at deadlines and intervals.

Timers are bound to an actor's incarnation: a timer set by an incarnation that has since
ended never fires into its successor, even if it was not cancelled.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perpsbot.clock import Clock

if TYPE_CHECKING:
    from perpsbot.runtime._cell import Cell

__all__ = ["ActorTimers", "Scheduler", "TimerHandle"]

logger = logging.getLogger("perpsbot.runtime.timers")


class TimerHandle:
    """A scheduled call; :meth:`cancel` stops it from firing (again)."""

    __slots__ = ("_callback", "cancelled", "deadline", "interval_s")

    def __init__(
        self, deadline: float, interval_s: float | None, callback: Callable[[], None]
    ) -> None:
        self.deadline = deadline
        self.interval_s = interval_s
        self._callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """A heap of deadlines served by one thread, on the injected clock.

    Callbacks run on the scheduler thread and must be quick: actor timers only tell a message.
    An interval timer keeps a fixed rate; if the scheduler falls behind, missed ticks are
    skipped rather than fired in a burst.
    """

    def __init__(self, clock: Clock, name: str = "perpsbot-timers") -> None:
        self._clock = clock
        self._name = name
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once, ``delay_s`` from now."""
        return self._add(TimerHandle(self._clock.monotonic() + delay_s, None, callback))

    def call_every(
        self, interval_s: float, callback: Callable[[], None], *, first_delay_s: float | None = None
    ) -> TimerHandle:
        """Run ``callback`` every ``interval_s``, first after ``first_delay_s`` or one interval."""
        if interval_s <= 0:
            raise ValueError(f"timer interval_s must be positive, was {interval_s!r}")
        first = interval_s if first_delay_s is None else first_delay_s
        return self._add(TimerHandle(self._clock.monotonic() + first, interval_s, callback))

    def pending(self) -> int:
        """Timers scheduled and not cancelled."""
        with self._condition:
            return sum(1 for _, _, handle in self._heap if not handle.cancelled)

    def _add(self, handle: TimerHandle) -> TimerHandle:
        with self._condition:
            heapq.heappush(self._heap, (handle.deadline, next(self._seq), handle))
            self._condition.notify()
        return handle

    def _run(self) -> None:
        with self._condition:
            while not self._stopped:
                now = self._clock.monotonic()
                due: list[TimerHandle] = []
                while self._heap and self._heap[0][0] <= now:
                    _, _, handle = heapq.heappop(self._heap)
                    if handle.cancelled:
                        continue
                    due.append(handle)
                    if handle.interval_s is not None:
                        missed = int((now - handle.deadline) // handle.interval_s)
                        handle.deadline += handle.interval_s * (missed + 1)
                        heapq.heappush(self._heap, (handle.deadline, next(self._seq), handle))
                if due:
                    self._condition.release()
                    try:
                        for handle in due:
                            self._fire(handle)
                    finally:
                        self._condition.acquire()
                    continue
                timeout = self._heap[0][0] - now if self._heap else None
                self._clock.wait(self._condition, timeout)

    @staticmethod
    def _fire(handle: TimerHandle) -> None:
        if handle.cancelled:
            return
        if handle.interval_s is None:
            handle.cancelled = True  # fired: a one-shot timer is done
        try:
            handle._callback()
        except BaseException:
            # A timer callback must not kill the scheduler: every other timer depends on it.
            logger.exception("timer callback failed")


class ActorTimers:
    """The timers of one actor incarnation: each fires a message into the actor's mailbox."""

    def __init__(self, scheduler: Scheduler, cell: Cell, incarnation: int) -> None:
        self._scheduler = scheduler
        self._cell = cell
        self._incarnation = incarnation
        self._handles: list[TimerHandle] = []

    def once(self, delay_s: float, message: Any) -> TimerHandle:
        """Tell ``message`` to this actor once, after ``delay_s``."""
        return self._track(self._scheduler.call_later(delay_s, self._deliverer(message)))

    def every(
        self, interval_s: float, message: Any, *, first_delay_s: float | None = None
    ) -> TimerHandle:
        """Tell ``message`` to this actor every ``interval_s``."""
        handle = self._scheduler.call_every(
            interval_s, self._deliverer(message), first_delay_s=first_delay_s
        )
        return self._track(handle)

    def cancel_all(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()

    def _track(self, handle: TimerHandle) -> TimerHandle:
        self._handles = [h for h in self._handles if not h.cancelled]
        self._handles.append(handle)
        return handle

    def _deliverer(self, message: Any) -> Callable[[], None]:
        cell, incarnation = self._cell, self._incarnation

        def deliver() -> None:
            # The incarnation check is what keeps a dead incarnation's timers out of its
            # successor's mailbox, even if cancel_all never ran (a hung, abandoned thread).
            if cell.incarnation == incarnation and cell.accepting:
                cell.address.tell(message)

        return deliver
