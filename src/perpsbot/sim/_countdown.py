"""Counted faults: armed from any thread, taken by the servers one use at a time."""

from __future__ import annotations

import threading


class Countdown:
    """How many of the next uses a fault still applies to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left = 0

    def arm(self, count: int) -> None:
        """Apply to ``count`` more uses."""
        with self._lock:
            self._left += count

    def take(self) -> bool:
        """Whether this use suffers the fault (spending one)."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._left = 0


class Delays:
    """The next ``count`` uses are each held back ``delay_s`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slow: tuple[float, int] = (0.0, 0)

    def arm(self, delay_s: float, count: int) -> None:
        """Hold the next ``count`` uses ``delay_s`` each (replacing what was armed)."""
        with self._lock:
            self._slow = (delay_s, count)

    def take_s(self) -> float:
        """This use's delay in seconds (0.0: none)."""
        with self._lock:
            delay, count = self._slow
            if count <= 0:
                return 0.0
            self._slow = (delay, count - 1)
            return delay

    def clear(self) -> None:
        self.arm(0.0, 0)
