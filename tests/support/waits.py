"""A wait function for a FakeClock: moves time forward instead of blocking."""

from __future__ import annotations

from perpsbot.clock import FakeClock


class FakeWait:
    """Waits by moving the fake clock, counting the waits."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
