"""The gateway's shared request budget, on the Advanced Trade side's limiter.

One :class:`~perpsbot.venue.ratelimit.VenueRateLimiter` per venue, shared by HTTP and both
sockets: its ``public`` bucket is every request (the credit pool), its ``private`` bucket the
matching engine's requests (buy, sell, cancel), which also draw on ``public``; ``websocket``
paces connects. docs/venues/global-derivatives.md 1.11: at most 5 order requests and 20 others
a second; a ``too_many_requests`` holds the whole budget.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from perpsbot.clock import Clock
from perpsbot.token_bucket import default_wait
from perpsbot.venue.ratelimit import RateLimits, VenueRateLimiter

MATCHING = frozenset({"private/buy", "private/sell", "private/cancel", "private/edit"})


@attrs.frozen(kw_only=True)
class GlobalLimits:
    """The client's own pace on the gateway (below what the venue refuses)."""

    requests_per_s: float = 20.0
    requests_burst: int = 20
    matching_per_s: float = 5.0
    matching_burst: int = 5
    connects_per_s: float = 2.0
    connects_burst: int = 2


def global_budget(
    *,
    clock: Clock,
    wait: Callable[[float], None] = default_wait,
    limits: GlobalLimits | None = None,
) -> VenueRateLimiter:
    """The budget to hand to every HTTP client and socket of one gateway account."""
    limits = limits or GlobalLimits()
    return VenueRateLimiter(
        clock=clock,
        wait=wait,
        limits=RateLimits(
            public_per_s=limits.requests_per_s,
            public_burst=limits.requests_burst,
            private_per_s=limits.matching_per_s,
            private_burst=limits.matching_burst,
            websocket_connects_per_s=limits.connects_per_s,
            websocket_burst=limits.connects_burst,
        ),
    )
