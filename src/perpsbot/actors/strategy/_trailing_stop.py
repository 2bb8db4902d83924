"""A fixed-percent trailing stop, seeded at the price of the fill that opened the position.

The original seeded it at the first mark it saw after the entry (original-perpsbot.md §5.4,
§10 #25), so a position that moved against it before that cycle started with a stop already
too far away.
"""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen(kw_only=True)
class TrailingStop:
    """Where a position is closed: ``pct`` below the best mark since entry for a long (above it
    for a short). ``peak`` is that best mark, starting at the entry fill price."""

    long: bool
    pct: Decimal
    peak: Decimal

    @property
    def stop(self) -> Decimal:
        return self.peak * (1 - self.pct) if self.long else self.peak * (1 + self.pct)

    def follow(self, mark: Decimal) -> TrailingStop:
        """The stop after ``mark``: the peak moves only in the position's favour."""
        better = mark > self.peak if self.long else mark < self.peak
        return attrs.evolve(self, peak=mark) if better else self

    def triggered(self, mark: Decimal) -> bool:
        """True when ``mark`` reached the stop (at or through it)."""
        return mark <= self.stop if self.long else mark >= self.stop

    def describe(self, mark: Decimal) -> str:
        return f"mark {mark} vs stop {self.stop:.6g} (peak {self.peak})"
