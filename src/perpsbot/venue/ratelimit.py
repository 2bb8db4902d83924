"""One request budget per venue, shared by every caller (thread-safe).

Each budget is a :class:`~perpsbot.token_bucket.TokenBucket`. A 429 puts the whole bucket on
hold, so every caller sharing the budget backs off together, not only the one that was told.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from perpsbot.clock import Clock
from perpsbot.token_bucket import TokenBucket, default_wait

__all__ = ["RateLimits", "VenueRateLimiter"]


@attrs.frozen(kw_only=True)
class RateLimits:
    """Coinbase Advanced Trade's published limits (requests or connects per second)."""

    private_per_s: float = 30.0
    public_per_s: float = 10.0
    websocket_connects_per_s: float = 8.0
    private_burst: int = 10
    public_burst: int = 3
    websocket_burst: int = 2


class VenueRateLimiter:
    """The three budgets of one venue: ``private`` REST, ``public`` REST and ``websocket`` connects.

    Create one per venue and hand the same object to every REST client and feed.

    Args:
        clock: the time source.
        wait: blocks for the given seconds (injectable so tests never sleep).
        limits: the rates and bursts.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        wait: Callable[[float], None] = default_wait,
        limits: RateLimits | None = None,
    ) -> None:
        limits = limits or RateLimits()
        self.limits = limits
        self.wait = wait
        self.private = TokenBucket(
            "private", limits.private_per_s, limits.private_burst, clock=clock, wait=wait
        )
        self.public = TokenBucket(
            "public", limits.public_per_s, limits.public_burst, clock=clock, wait=wait
        )
        self.websocket = TokenBucket(
            "websocket",
            limits.websocket_connects_per_s,
            limits.websocket_burst,
            clock=clock,
            wait=wait,
        )

    def __repr__(self) -> str:
        return f"VenueRateLimiter({self.limits!r})"
