"""The gateway's request credits: a pool refilled at a rate, one cost a request.

When a request finds no credits the venue answers ``too_many_requests`` (10028) and ends the
session (docs/venues/global-derivatives.md 1.11). Matching-engine requests also pass a rate of
their own (a token bucket, shared with the Advanced Trade side's server limits).
"""

from __future__ import annotations

import threading

from perpsbot.clock import Clock
from perpsbot.sim.gateway._config import GatewayConfig
from perpsbot.token_bucket import TokenBucket

MATCHING = frozenset({"private/buy", "private/sell", "private/cancel", "private/edit"})


class Credits:
    """One account's credits (every session of the account draws on them)."""

    def __init__(self, config: GatewayConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._left = float(config.credit_pool)
        self._at_s = clock.monotonic()
        self._matching = TokenBucket(
            "matching", config.matching_per_s, config.matching_burst, clock=clock
        )

    def take(self, method: str) -> bool:
        """Spend a request's credits; False (nothing spent) if there are not enough."""
        with self._lock:
            now = self._clock.monotonic()
            pool = self._config.credit_pool
            self._left = min(
                pool, self._left + (now - self._at_s) * self._config.credit_refill_per_s
            )
            self._at_s = now
            if self._left < self._config.credit_cost:
                return False
            if method in MATCHING and not self._matching.try_acquire():
                return False
            self._left -= self._config.credit_cost
            return True
