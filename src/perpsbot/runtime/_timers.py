"""Timers: one scheduler thread per actor system tells messages at deadlines and intervals.

Timers are bound to an actor's incarnation: a timer set by an incarnation that has since
ended never fires into its successor, even if it was not cancelled.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perpsbot.clock import Clock
from perpsbot.errors import InvalidTimerError, RuntimeStoppedError

if TYPE_CHECKING:
    from perpsbot.runtime._cell import Cell

__all__ = ["MAX_TIMER_S", "ActorTimers", "Scheduler", "TimerHandle"]

logger = logging.getLogger("perpsbot.runtime.timers")

#: The longest delay or interval a timer may have (366 days). Anything longer is a mistake
#: (a unit slip, an unbounded setting), refused where it is made rather than left to break
#: the thread every timer shares.
MAX_TIMER_S = 366 * 86_400.0

# The longest single wait of the scheduler thread. The loop re-reads the clock after every
# wake-up, so this costs nothing, and no deadline can ask a platform for a wait longer than
# it supports (threading.TIMEOUT_MAX is 49 days on Windows).
_MAX_WAIT_S = min(3_600.0, threading.TIMEOUT_MAX)


def _seconds(name: str, value: float, *, positive: bool) -> float:
    """``value`` if it is a finite number of seconds within the bounds, else a clear error."""
    low = "more than 0" if positive else "at least 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
        or value > MAX_TIMER_S
    ):
        raise InvalidTimerError(
            f"timer {name} must be {low} and at most {MAX_TIMER_S:.0f} seconds (366 days), "
            f"was {value!r}"
        )
    return float(value)


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

    A *driven* scheduler has no thread: whoever moves the clock fires the timers, one at a
    time and in deadline order, with :meth:`fire_next` (a backtest's driver waits until the
    actors are idle between two, so work started at one instant never races other work of
    that instant).

    Args:
        clock: the time source of every deadline.
        name: the thread's name.
        on_death: called (on the dying thread) if the thread ever ends other than by
            :meth:`stop`; every timer has then stopped, so the owner must act on it.
        driven: no thread; timers fire only in :meth:`fire_next`.
        on_settled: called each time callbacks end (its system's idle signal).
    """

    def __init__(
        self,
        clock: Clock,
        name: str = "perpsbot-timers",
        *,
        on_death: Callable[[BaseException], None] | None = None,
        driven: bool = False,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self.driven = driven
        self.name = name
        self._on_death = on_death
        self._on_settled = on_settled
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._firing = False
        self.fired = 0
        """Callbacks started so far (a timer that fires every second counts once a second)."""
        self.died_of: BaseException | None = None
        """Why the thread ended unasked, or None while it serves (or was stopped)."""

    def start(self) -> None:
        if self.driven:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def is_alive(self) -> bool:
        """True while the thread runs; False before :meth:`start`, after :meth:`stop`, or if
        it died (see :attr:`died_of`). A driven scheduler is alive until stopped."""
        if self.driven:
            return not self._stopped
        return self._thread is not None and self._thread.is_alive()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once, ``delay_s`` from now.

        Raises:
            InvalidTimerError: ``delay_s`` is not a number of seconds in [0, ``MAX_TIMER_S``].
            RuntimeStoppedError: the scheduler thread died; no timer can fire.
        """
        delay_s = _seconds("delay_s", delay_s, positive=False)
        return self._add(TimerHandle(self._clock.monotonic() + delay_s, None, callback))

    def call_every(
        self, interval_s: float, callback: Callable[[], None], *, first_delay_s: float | None = None
    ) -> TimerHandle:
        """Run ``callback`` every ``interval_s``, first after ``first_delay_s`` or one interval.

        Raises:
            InvalidTimerError: ``interval_s`` is not in (0, ``MAX_TIMER_S``] seconds, or
                ``first_delay_s`` not in [0, ``MAX_TIMER_S``].
            RuntimeStoppedError: the scheduler thread died; no timer can fire.
        """
        interval_s = _seconds("interval_s", interval_s, positive=True)
        first = interval_s
        if first_delay_s is not None:
            first = _seconds("first_delay_s", first_delay_s, positive=False)
        return self._add(TimerHandle(self._clock.monotonic() + first, interval_s, callback))

    def pending(self) -> int:
        """Timers scheduled and not cancelled."""
        with self._condition:
            return sum(1 for _, _, handle in self._heap if not handle.cancelled)

    def due(self) -> int:
        """Timers due now and not fired yet, plus the callbacks running now: 0 when nothing
        will fire before the clock moves on. A driven scheduler's due timers wait for its
        driver, so only a callback running counts."""
        with self._condition:
            if self.driven:
                return 1 if self._firing else 0
            now = self._clock.monotonic()
            waiting = sum(1 for at, _, h in self._heap if at <= now and not h.cancelled)
            return waiting + (1 if self._firing else 0)

    def next_deadline(self) -> float | None:
        """The earliest deadline (clock monotonic seconds) of a timer not cancelled, if any."""
        with self._condition:
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            return self._heap[0][0] if self._heap else None

    def fire_next(self) -> bool:
        """Fire the one timer due first (deadline, then the order timers were set in), on
        the caller's thread; False when none is due. For a driven scheduler."""
        with self._condition:
            now = self._clock.monotonic()
            while self._heap and self._heap[0][0] <= now:
                _, _, handle = heapq.heappop(self._heap)
                if handle.cancelled:
                    continue
                if handle.interval_s is not None:
                    missed = int((now - handle.deadline) // handle.interval_s)
                    handle.deadline += handle.interval_s * (missed + 1)
                    heapq.heappush(self._heap, (handle.deadline, next(self._seq), handle))
                self._firing = True
                self.fired += 1
                break
            else:
                return False
        try:
            self._fire(handle)
        finally:
            with self._condition:
                self._firing = False
            if self._on_settled is not None:
                self._on_settled()
        return True

    def _add(self, handle: TimerHandle) -> TimerHandle:
        if self.died_of is not None:
            raise RuntimeStoppedError(
                f"{self.name} died ({self.died_of!r}); no timer will fire, none can be set"
            )
        with self._condition:
            heapq.heappush(self._heap, (handle.deadline, next(self._seq), handle))
            self._condition.notify()
        return handle

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as error:
            # The thread every timer (the watchdog's included) depends on is gone. It must not
            # die quietly: a bot whose timers stopped looks healthy from outside.
            self.died_of = error
            logger.critical("%s died; no timer will fire again", self.name, exc_info=True)
            if self._on_death is not None:
                self._on_death(error)

    def _serve(self) -> None:
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
                    self._firing = True
                    self.fired += len(due)
                    self._condition.release()
                    try:
                        for handle in due:
                            self._fire(handle)
                    finally:
                        self._condition.acquire()
                        self._firing = False
                    if self._on_settled is not None:
                        self._on_settled()
                    continue
                timeout = min(self._heap[0][0] - now, _MAX_WAIT_S) if self._heap else None
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
