"""The sim's server-side rate limits behind ``x-ratelimit-*`` (``sim.private_per_s`` and
``sim.public_per_s``: Coinbase's 30 and 10 requests a second by default).

The buckets are the venue client's own :class:`~perpsbot.venue.ratelimit.TokenBucket`, taken
without waiting: what the client budgets for is exactly what the sim enforces.
"""

from __future__ import annotations

import math

from perpsbot.clock import Clock
from perpsbot.token_bucket import TokenBucket


class ServerRateLimits:
    """Counts requests per kind against the limits; refuses only when ``enforce`` is set.

    Each kind may burst its whole second's worth at once, as a one-second window allows.
    """

    def __init__(
        self, clock: Clock, *, enforce: bool, private_per_s: int, public_per_s: int
    ) -> None:
        self._enforce = enforce
        self._buckets = {
            public: TokenBucket("public" if public else "private", rate, burst=rate, clock=clock)
            for public, rate in ((True, public_per_s), (False, private_per_s))
        }

    def admit(self, *, public: bool) -> tuple[bool, dict[str, str]]:
        """Whether one request may go through, and its rate-limit headers (with
        ``Retry-After``, whole seconds until a slot is free, on a refusal)."""
        bucket = self._buckets[public]
        allowed = bucket.try_acquire() or not self._enforce
        headers = {
            "x-ratelimit-limit": f"{bucket.rate_per_s:g}",
            "x-ratelimit-remaining": str(bucket.available()),
            "x-ratelimit-reset": "1",
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(bucket.free_in_s())))
        return allowed, headers
