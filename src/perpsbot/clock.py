"""The only module that reads time.

Everything that needs the time takes a :class:`Clock`. Production code gets
:class:`SystemClock`; tests get :class:`FakeClock` and move it by hand.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock", "stopwatch_ns"]

#: A high-resolution counter for measuring durations (handler time, benchmarks); never a date.
stopwatch_ns = time.perf_counter_ns


@runtime_checkable
class Clock(Protocol):
    """A source of time: a monotonic clock for intervals and a wall clock for timestamps."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...

    def monotonic_ns(self) -> int:
        """Nanoseconds from the same origin as :meth:`monotonic`."""
        ...

    def time_ns(self) -> int:
        """Wall-clock nanoseconds since the Unix epoch."""
        ...

    def now(self) -> datetime:
        """The wall-clock time as an aware UTC datetime."""
        ...

    def wait(self, condition: threading.Condition, timeout_s: float | None) -> None:
        """Wait on ``condition`` (held by the caller) for at most ``timeout_s`` of clock time.

        A notify wakes the waiter early, as with :meth:`threading.Condition.wait`. Callers
        re-check their deadline with :meth:`monotonic` after waking.
        """
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def time_ns(self) -> int:
        return time.time_ns()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, condition: threading.Condition, timeout_s: float | None) -> None:
        condition.wait(timeout_s)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that moves only when told to; safe to read and advance from any thread.

    Args:
        start_s: the initial monotonic reading in seconds.
        wall_start_ns: the initial wall-clock reading in nanoseconds since the epoch.
    """

    def __init__(
        self, start_s: float = 1_000.0, wall_start_ns: int = 1_767_225_600 * 10**9
    ) -> None:
        self._lock = threading.Lock()
        self._mono_ns = int(start_s * 1e9)
        self._wall_offset_ns = wall_start_ns - self._mono_ns
        self._waiters: set[threading.Condition] = set()

    def monotonic(self) -> float:
        return self.monotonic_ns() / 1e9

    def monotonic_ns(self) -> int:
        with self._lock:
            return self._mono_ns

    def time_ns(self) -> int:
        with self._lock:
            return self._mono_ns + self._wall_offset_ns

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time_ns() / 1e9, UTC)

    def wait(self, condition: threading.Condition, timeout_s: float | None) -> None:
        """Wait until notified or until :meth:`advance` moves time; no real time has to pass.

        A waiter with a timeout wakes on every advance and re-checks its own deadline.
        """
        with self._lock:
            self._waiters.add(condition)
        condition.wait()

    def advance(self, seconds: float) -> None:
        """Move both readings forward by ``seconds`` (which must not be negative).

        Every thread waiting in :meth:`wait` is woken so it can see the new time.
        """
        if seconds < 0:
            raise ValueError(f"FakeClock.advance needs seconds >= 0, was {seconds!r}")
        with self._lock:
            self._mono_ns += int(seconds * 1e9)
            waiters = list(self._waiters)
        for condition in waiters:
            with condition:
                condition.notify_all()

    def advance_ns(self, nanoseconds: int) -> None:
        """Move both readings forward by exactly ``nanoseconds`` (not negative); see
        :meth:`advance`."""
        if nanoseconds < 0:
            raise ValueError(f"FakeClock.advance_ns needs nanoseconds >= 0, was {nanoseconds!r}")
        with self._lock:
            self._mono_ns += nanoseconds
            waiters = list(self._waiters)
        for condition in waiters:
            with condition:
                condition.notify_all()

    def __repr__(self) -> str:
        return f"FakeClock(monotonic={self.monotonic():.6f})"
