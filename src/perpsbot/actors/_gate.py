"""The executor's own check of the trading state, before an order is journaled.

Risk already checked the intent; this is the second lock on the door, so that a strategy that
misbehaves, a risk actor that restarted, or an order queued before a halt cannot reach the
venue. It is deliberately small: the state, reconciliation, and whether an order shrinks a
position.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages import Side, TradingState


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


def shrinks(side: Side, size: Decimal, position: Decimal, reducing_in_flight: Decimal) -> bool:
    """True if an order of ``size`` on ``side`` only shrinks ``position``, counting the open
    orders on the same side (``reducing_in_flight``) that shrink it already."""
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
    position: Decimal,
    reducing_in_flight: Decimal,
) -> Refusal | None:
    """Why the executor refuses this order now, or None if it may go ahead.

    ``state`` None means risk has not told the executor a state yet: treated as REDUCING.
    """
    if not reconciled:
        return Refusal(
            rule="reconciliation_pending",
            reason="the executor places no order before its startup reconciliation with the"
            " venue completes",
        )
    held = f" ({'; '.join(reasons)})" if reasons else ""
    if state is TradingState.HALTED:
        return Refusal(rule="halted", reason=f"trading is HALTED{held}: only cancels are accepted")
    if state is TradingState.ACTIVE:
        return None
    if shrinks(side, size, position, reducing_in_flight):
        return None
    why = "no trading state from risk yet" if state is None else f"trading is REDUCING{held}"
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
