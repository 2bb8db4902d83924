"""A GCRA ("virtual scheduling") token bucket, thread-safe: callers reserve the next free slot
under a lock and wait for it outside the lock, so waiters are served in order and nobody holds
the lock while sleeping; a hold (a 429) makes every caller sharing the bucket back off.

A leaf of the package: the venue's clients share one budget per venue through it, and the
simulated exchange enforces its own limits with it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from perpsbot.clock import Clock

__all__ = ["TokenBucket", "default_wait"]


# Slots are sums of float intervals: a slot due within this much counts as free now.
_EPSILON_S = 1e-9


def default_wait(seconds: float) -> None:
    """Block the calling thread for ``seconds`` (the production wait function)."""
    threading.Event().wait(seconds)


class TokenBucket:
    """At most ``rate_per_s`` acquisitions a second on average, ``burst`` at once.

    Args:
        name: for messages and reprs.
        rate_per_s: the sustained rate.
        burst: how many acquisitions may happen back to back after an idle period.
        clock: the time source (monotonic).
        wait: blocks for the given seconds; tests pass one that advances a fake clock.
    """

    def __init__(
        self,
        name: str,
        rate_per_s: float,
        burst: int,
        *,
        clock: Clock,
        wait: Callable[[float], None] = default_wait,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(
                f"bucket {name!r} needs rate_per_s > 0 and burst >= 1, "
                f"was {rate_per_s!r} and {burst!r}"
            )
        self.name = name
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._wait = wait
        self._lock = threading.Lock()
        self._interval_s = 1.0 / rate_per_s
        self._tolerance_s = (burst - 1) * self._interval_s
        self._tat = clock.monotonic()  # theoretical arrival time of the next request
        self.acquired = 0
        self.waited_s = 0.0

    def _take(self, max_wait_s: float) -> float | None:
        with self._lock:
            now = self._clock.monotonic()
            tat = max(self._tat, now)
            delay = max(0.0, tat - self._tolerance_s - now)
            if delay > max_wait_s:
                return None
            self._tat = tat + self._interval_s
            self.acquired += 1
            self.waited_s += delay
            return delay

    def reserve(self) -> float:
        """Take the next slot and return how long the caller must wait for it (no waiting)."""
        delay = self._take(math.inf)
        assert delay is not None  # no bound: always taken
        return delay

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            self._wait(delay)
        return delay

    def acquire_within(self, max_wait_s: float) -> float | None:
        """Wait for a slot if one is free within ``max_wait_s``; returns the seconds waited,
        or None at once (no slot taken) if the bucket is held or booked for longer."""
        delay = self._take(max_wait_s)
        if delay:
            self._wait(delay)
        return delay

    def free_in_s(self) -> float:
        """How long a request made now would wait for its slot (nothing is taken)."""
        with self._lock:
            now = self._clock.monotonic()
            return max(0.0, max(self._tat, now) - self._tolerance_s - now)

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now, never waiting (how a server enforces a limit)."""
        with self._lock:
            now = self._clock.monotonic()
            tat = max(self._tat, now)
            if tat - self._tolerance_s > now + _EPSILON_S:
                return False
            self._tat = tat + self._interval_s
            self.acquired += 1
            return True

    def available(self) -> int:
        """How many slots could be taken back to back right now."""
        with self._lock:
            now = self._clock.monotonic()
            free_s = now + self._tolerance_s - max(self._tat, now)
        return int((free_s + _EPSILON_S) / self._interval_s) + 1 if free_s > -_EPSILON_S else 0

    def hold_off(self, seconds: float) -> None:
        """Grant nothing for ``seconds`` from now (the venue said 429); later calls queue up."""
        with self._lock:
            now = self._clock.monotonic()
            self._tat = max(self._tat, now + max(0.0, seconds) + self._tolerance_s)

    def __repr__(self) -> str:
        return f"TokenBucket({self.name!r}, rate_per_s={self.rate_per_s}, burst={self.burst})"
