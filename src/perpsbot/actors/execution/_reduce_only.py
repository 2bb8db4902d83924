"""The one reduce-only predicate, and the executor's check of the trading state with it.

:func:`only_reduces` decides whether an order only shrinks a position, counting what orders
in flight on the same side may still take off it; risk's rules and the executor's
:func:`refusal` both decide by it. The executor's check is the second lock on the door, so
that a strategy that misbehaves, a risk actor that restarted, or an order queued before a
halt cannot reach the venue: the state, reconciliation, and in every state that an exit never
exceeds the position minus the exits in flight.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages import IntentPurpose, Side, TradingState


@attrs.frozen(kw_only=True)
class Refusal:
    rule: str
    reason: str


def describe_position(quantity: Decimal) -> str:
    """``long 0.01``, ``short 2`` or ``flat``."""
    if quantity == 0:
        return "flat"
    side = "long" if quantity > 0 else "short"
    return f"{side} {format(abs(quantity).normalize(), 'f')}"


def only_reduces(side: Side, size: Decimal, position: Decimal, reducing_in_flight: Decimal) -> bool:
    """True if an order of ``size`` on ``side`` only shrinks ``position`` (never through
    zero), counting what unsettled orders on the same side (``reducing_in_flight``: the
    unbooked rest of each) may still take off it."""
    if position == 0 or (position > 0) == (side is Side.BUY):
        return False
    return size + reducing_in_flight <= abs(position)


def refusal(
    *,
    state: TradingState | None,
    reasons: tuple[str, ...],
    reconciled: bool,
    symbol: str,
    side: Side,
    size: Decimal,
    purpose: IntentPurpose,
    position: Decimal,
    reducing_in_flight: Decimal,
    book_behind: bool = False,
) -> Refusal | None:
    """Why the executor refuses this order now, or None if it may go ahead.

    ``state`` None means risk has not told the executor a state yet: treated as REDUCING.
    An exit must only reduce the position in every state (HALTED refuses it anyway).
    ``book_behind``: the portfolio has not answered the last reconciliation yet, so
    ``position`` may be one that reconciliation is about to correct.
    """
    if not reconciled:
        return Refusal(
            rule="reconciliation_pending",
            reason="the executor places no order before its startup reconciliation with the"
            " venue completes",
        )
    if book_behind:
        return Refusal(
            rule="reconciliation_pending",
            reason="the portfolio has not yet answered the last reconciliation with its"
            " corrected positions: no order goes out on a position it may correct",
        )
    held = f" ({'; '.join(reasons)})" if reasons else ""
    if state is TradingState.HALTED:
        return Refusal(rule="halted", reason=f"trading is HALTED{held}: only cancels are accepted")
    if only_reduces(side, size, position, reducing_in_flight):
        return None
    if state is TradingState.ACTIVE and purpose is not IntentPurpose.EXIT:
        return None
    if state is TradingState.ACTIVE:
        why = "an exit"
    elif state is None:
        why = "no trading state from risk yet"
    else:
        why = f"trading is REDUCING{held}"
    pending = (
        f", with {format(reducing_in_flight.normalize(), 'f')} already being reduced"
        if reducing_in_flight
        else ""
    )
    return Refusal(
        rule="reduce_only",
        reason=f"{why}: {side.value} {format(size.normalize(), 'f')} {symbol} would not only "
        f"shrink the position ({describe_position(position)}{pending})",
    )
