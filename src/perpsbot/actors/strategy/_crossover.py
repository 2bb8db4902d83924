"""The moving-average crossover: a signal only on the sample where the short MA crosses the
long one (or, with confirmation bars, on the sample the cross has held long enough).

The original (original-perpsbot.md §5.3) computed the same event-based cross but required the
N bars *before* the current one to be in the crossed state; bar 1 back is the pre-cross bar by
definition, so any ``confirm_bars > 0`` suppressed every signal. Here the cross happens
``confirm_bars`` samples ago and every sample since, the current one included, must still be
past the epsilon band: the signal then fires once, on the confirming sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from perpsbot.messages import Signal

_BPS = Decimal(10_000)


@attrs.frozen(kw_only=True)
class Crossover:
    """The crossover's reading of one window: the signal and the current moving averages."""

    signal: Signal
    short_ma: Decimal | None = None
    long_ma: Decimal | None = None

    def describe(self) -> str:
        if self.short_ma is None or self.long_ma is None:
            return str(self.signal)
        return f"short MA {self.short_ma:.6g} vs long MA {self.long_ma:.6g}"


def samples_needed(*, long: int, confirm_bars: int) -> int:
    """How many samples a window needs before a cross can be seen (and confirmed)."""
    return long + confirm_bars + 1


def crossover(
    window: Sequence[Decimal],
    *,
    short: int,
    long: int,
    epsilon_bps: Decimal = Decimal(0),
    confirm_bars: int = 0,
) -> Crossover:
    """Read ``window`` (oldest first, the current mark last).

    Bullish when the short MA was at most ``epsilon`` above the long MA on the sample before the
    cross and is more than ``epsilon`` above it on the cross and on each of the
    ``confirm_bars`` samples since; bearish mirrors it. ``epsilon`` is ``epsilon_bps`` of the
    current mark. Anything else is neutral, so lines that stay apart never signal again.
    """
    if len(window) < samples_needed(long=long, confirm_bars=confirm_bars):
        return Crossover(signal=Signal.WARMING_UP)
    epsilon = window[-1] * epsilon_bps / _BPS
    n = len(window)
    # diffs[0] is the sample before the cross, diffs[1] the cross, diffs[-1] the current one.
    diffs = [
        _mean(window[end - short : end]) - _mean(window[end - long : end])
        for end in range(n - confirm_bars - 1, n + 1)
    ]
    before, since = diffs[0], diffs[1:]
    short_ma, long_ma = _mean(window[n - short :]), _mean(window[n - long :])
    if before <= epsilon and all(d > epsilon for d in since):
        signal = Signal.BULLISH
    elif before >= -epsilon and all(d < -epsilon for d in since):
        signal = Signal.BEARISH
    else:
        signal = Signal.NEUTRAL
    return Crossover(signal=signal, short_ma=short_ma, long_ma=long_ma)


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)
