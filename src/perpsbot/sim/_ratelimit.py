"""The sim's server-side rate limits behind ``x-ratelimit-*``: 30 rps private, 10 rps public.

The buckets are the venue client's own :class:`~perpsbot.venue.ratelimit.TokenBucket`, taken
without waiting: what the client budgets for is exactly what the sim enforces.
"""

from __future__ import annotations

from perpsbot.clock import Clock
from perpsbot.venue.ratelimit import TokenBucket

_PUBLIC_PER_S = 10
_PRIVATE_PER_S = 30


class ServerRateLimits:
    """Counts requests per kind against Coinbase's limits; refuses only when ``enforce`` is set.

    Each kind may burst its whole second's worth at once, as a one-second window allows.
    """

    def __init__(self, clock: Clock, *, enforce: bool) -> None:
        self._enforce = enforce
        self._buckets = {
            public: TokenBucket("public" if public else "private", rate, burst=rate, clock=clock)
            for public, rate in ((True, _PUBLIC_PER_S), (False, _PRIVATE_PER_S))
        }

    def headers(self, *, public: bool) -> dict[str, str] | None:
        """The rate-limit headers for one request, or ``None`` if it must get a 429."""
        bucket = self._buckets[public]
        if not bucket.try_acquire() and self._enforce:
            return None
        return {
            "x-ratelimit-limit": f"{bucket.rate_per_s:g}",
            "x-ratelimit-remaining": str(bucket.available()),
            "x-ratelimit-reset": "1",
        }
