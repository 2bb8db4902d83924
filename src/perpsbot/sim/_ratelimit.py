"""Token buckets behind the ``x-ratelimit-*`` headers: 30 rps private, 10 rps public."""

from __future__ import annotations

import threading

from perpsbot.clock import Clock


class _Bucket:
    def __init__(self, rate_per_s: float, clock: Clock) -> None:
        self.rate = rate_per_s
        self.tokens = rate_per_s
        self._clock = clock
        self._last = clock.monotonic()

    def take(self) -> bool:
        now = self._clock.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RateLimits:
    """Counts requests per kind; refuses them only when ``enforce`` is set."""

    def __init__(self, clock: Clock, *, enforce: bool) -> None:
        self._lock = threading.Lock()
        self._enforce = enforce
        self._buckets = {True: _Bucket(10.0, clock), False: _Bucket(30.0, clock)}

    def headers(self, *, public: bool) -> dict[str, str] | None:
        """The rate-limit headers for one request, or ``None`` if it must get a 429."""
        with self._lock:
            bucket = self._buckets[public]
            allowed = bucket.take()
            if not allowed and self._enforce:
                return None
            return {
                "x-ratelimit-limit": f"{bucket.rate:g}",
                "x-ratelimit-remaining": str(max(0, int(bucket.tokens))),
                "x-ratelimit-reset": "1",
            }
