"""Capped exponential backoff with jitter: the one schedule of supervisor restarts, REST retries
and websocket reconnects (``perpsbot.runtime`` and ``perpsbot.venue`` both re-export it)."""

from __future__ import annotations

import random

import attrs

__all__ = ["Backoff"]


@attrs.frozen(kw_only=True)
class Backoff:
    """Delay before retry ``attempt`` (1-based): ``min(max_s, initial_s * multiplier**(n-1))``;
    attempt 0 (or less) waits nothing.

    With ``jitter`` j in [0, 1], the delay is drawn uniformly from ``[d * (1 - j), d]``, so
    clients that failed together do not retry together, and the delay never falls below
    ``d * (1 - j)`` (no storm) nor rises above ``max_s``. ``jitter=0`` gives the exact
    schedule.
    """

    initial_s: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_s: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    jitter: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )

    def ceiling_s(self, attempt: int) -> float:
        """The un-jittered delay for ``attempt`` (the upper bound of :meth:`delay_s`)."""
        if attempt <= 0:
            return 0.0
        exponent = min(attempt - 1, 64)
        return float(min(self.max_s, self.initial_s * self.multiplier**exponent))

    def floor_s(self, attempt: int) -> float:
        """The smallest delay :meth:`delay_s` can return for ``attempt``."""
        return self.ceiling_s(attempt) * (1.0 - self.jitter)

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The jittered delay before retry ``attempt``."""
        ceiling = self.ceiling_s(attempt)
        return ceiling * (1.0 - self.jitter * rng.random())
