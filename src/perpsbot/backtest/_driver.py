"""The driver of a backtest: a fake clock that jumps to the next due event whenever the actors
are idle, so a run goes as fast as the actors work and never sleeps.

The actor system runs with driven timers (no timer thread), and for a candle backtest with the
calling-thread execution (no actor thread: waiting until idle runs the handlers on the
driver's thread until every mailbox is empty). The driver repeats: wait until every actor
is idle; find the next due event, the earliest of the next timer and the next
point of the bar path (or frame of a recording); move the clock there; then either apply
that event or fire that one timer. One event at a time, each followed by the idle wait:
work that one event starts never races work of another event at the same instant, so a run
is deterministic. On a tie a path point goes before the timers (a poll at that instant sees
the new price), a recorded frame after them (it was received after they fired).

Nothing outside the runtime delivers anything in a candle backtest: the market data comes
from quote polls (REST calls inside the poller's handler, which the idle wait sees), orders
are followed by the executor's polls, and the exchange answers REST calls inside the
caller's handler (``venue/_direct.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import attrs

from perpsbot.backtest._path import PathPoint
from perpsbot.clock import FakeClock
from perpsbot.errors import ActorSystemBusyError, BacktestError
from perpsbot.runtime import ActorSystem
from perpsbot.sim import SimExchange

__all__ = ["DriverCounts", "DriverEvent", "IdleDriver"]

_NS = 10**9


class DriverEvent(Protocol):
    """Something outside the actors that happens at a time: a bar path's point, a frame."""

    @property
    def at_ns(self) -> int:
        """When, in Unix nanoseconds (the fake clock's wall clock)."""
        ...

    @property
    def timers_first(self) -> bool:
        """On a tie, fire the timers due at :attr:`at_ns` before it (a frame received at a
        time came after that time's timers fired), else after it (a price moves, then a
        poll at that instant sees it)."""
        ...

    def apply(self) -> bool:
        """Make it happen (the clock stands at :attr:`at_ns`); True if it may have set an
        actor off, so the driver waits until they are idle again."""
        ...


@attrs.define
class _PathStep:
    sim: SimExchange
    point: PathPoint

    @property
    def at_ns(self) -> int:
        return round(self.point.at_s * _NS)

    @property
    def timers_first(self) -> bool:
        return False

    def apply(self) -> bool:
        self.sim.step_to(self.point.prices)
        return False  # no feed listens to the exchange: nothing is set off


@attrs.define
class DriverCounts:
    """What a run moved: events (path points, frames) applied and timers fired."""

    points: int = 0
    timers: int = 0


class IdleDriver:
    """Moves ``clock`` from event to event for ``system`` (built with ``driven_timers=True``)
    and ``sim``, which must share that clock.

    Args:
        system: the actor system under test.
        clock: its fake clock; its wall clock is the data's time.
        sim: the exchange whose prices follow the path.
        idle_timeout_s: how long (real time) the actors may work on one event before the
            run is declared stuck (:class:`~perpsbot.errors.BacktestError` naming what was busy).
    """

    def __init__(
        self,
        *,
        system: ActorSystem,
        clock: FakeClock,
        sim: SimExchange,
        idle_timeout_s: float = 60.0,
    ) -> None:
        if not system.scheduler.driven:
            raise BacktestError(
                "IdleDriver needs an ActorSystem built with driven_timers=True, found one"
                " with a timer thread"
            )
        self._system = system
        self._clock = clock
        self._sim = sim
        self._idle_timeout_s = idle_timeout_s
        self.counts = DriverCounts()
        self._unsettled = True  # the tree may still be starting

    def run(self, path: Iterable[PathPoint], *, until_s: float) -> DriverCounts:
        """Play a bar ``path`` and every timer due before ``until_s`` (Unix seconds,
        inclusive)."""
        return self.play(
            (_PathStep(self._sim, point) for point in path), until_ns=round(until_s * _NS)
        )

    def play(self, events: Iterable[DriverEvent], *, until_ns: int) -> DriverCounts:
        """Apply ``events`` at their times, timers in between, and every timer due before
        ``until_ns`` (Unix nanoseconds, inclusive)."""
        for event in events:
            target_ns = self._mono_ns(event.at_ns)
            self._fire_timers(before_ns=target_ns + (1 if event.timers_first else 0))
            self._advance_to(target_ns)
            if event.apply():
                self._unsettled = True
            self.counts.points += 1
        self._fire_timers(before_ns=self._mono_ns(until_ns) + 1)
        self._wait_idle()
        return self.counts

    def _fire_timers(self, *, before_ns: int) -> None:
        scheduler = self._system.scheduler
        while True:
            # A path point alone sets nothing off (no feed listens to the exchange), so only
            # a fired timer (or the tree's start) needs the actors to settle.
            if self._unsettled:
                self._wait_idle()
            deadline = scheduler.next_deadline()
            if deadline is None:
                return
            deadline_ns = _ceil_ns(deadline)
            if deadline_ns >= before_ns:
                return
            self._advance_to(deadline_ns)
            if scheduler.fire_next():
                self.counts.timers += 1
                self._unsettled = True

    def _wait_idle(self) -> None:
        self._unsettled = False
        if self._system.escalation is not None:
            raise BacktestError(f"the bot's actor tree gave up: {self._system.escalation}")
        try:
            self._system.wait_idle(self._idle_timeout_s)
        except ActorSystemBusyError as error:
            raise BacktestError(f"the backtest is stuck: {error}") from error

    def _mono_ns(self, wall_ns: int) -> int:
        return wall_ns - (self._clock.time_ns() - self._clock.monotonic_ns())

    def _advance_to(self, mono_ns: int) -> None:
        now_ns = self._clock.monotonic_ns()
        if mono_ns > now_ns:
            self._clock.advance_ns(mono_ns - now_ns)


def _ceil_ns(seconds: float) -> int:
    ns = int(seconds * _NS)
    return ns if ns / _NS >= seconds else ns + 1
