"""Capped exponential backoff with jitter, shared by REST retries and websocket reconnects."""

from __future__ import annotations

import random

import attrs

__all__ = ["Backoff"]


@attrs.frozen(kw_only=True)
class Backoff:
    """Delay before retry ``attempt`` (1-based): ``min(max_s, initial_s * multiplier**(n-1))``.

    With ``jitter`` j in [0, 1], the delay is drawn uniformly from ``[d * (1 - j), d]``, so
    clients that failed together do not retry together, and the delay never falls below
    ``d * (1 - j)`` (no storm). ``jitter=0`` gives the exact schedule.
    """

    initial_s: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    max_s: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    jitter: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )

    def ceiling_s(self, attempt: int) -> float:
        """The un-jittered delay for ``attempt`` (the upper bound of :meth:`delay_s`)."""
        exponent = min(max(attempt, 1) - 1, 64)
        return float(min(self.max_s, self.initial_s * self.multiplier**exponent))

    def floor_s(self, attempt: int) -> float:
        """The smallest delay :meth:`delay_s` can return for ``attempt``."""
        return self.ceiling_s(attempt) * (1.0 - self.jitter)

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The jittered delay before retry ``attempt``."""
        ceiling = self.ceiling_s(attempt)
        return ceiling * (1.0 - self.jitter * rng.random())
