"""Orders the executor did not place in this process: restored from the journal at start, or
adopted from the venue.

The startup reconciliation holds each unfinished order the journal lists again
(:func:`restored_order`): as it was fitted, with the fills the journal booked already (the
portfolio rebuilt its book from them) and the last status the journal has. A reconciliation
adopts an open order the venue shows with our client-id prefix that the ledger does not hold
(:func:`adopted_order`): the bot placed it, but the journal lost it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.actors.execution._order_states import TrackedOrder, venue_state
from perpsbot.actors.execution._quantize import fitted_order
from perpsbot.messages import (
    IntentPurpose,
    JournaledOrder,
    OrderStatus,
    OrderType,
    ProductSpec,
    Side,
)
from perpsbot.venue.gateway import VenueOrder

__all__ = ["adopted_order", "restored_order"]

_S = OrderStatus


def restored_order(journaled: JournaledOrder, spec: ProductSpec | None) -> TrackedOrder:
    """The order the journal holds unfinished, as this process tracks it."""
    intent, last, fills = journaled.intent, journaled.order, journaled.fills
    fill_ids = frozenset(f.fill_id for f in fills)
    # What was published as fills: the journaled filled size may be more, when the venue
    # reported it before its fills could be read (those are read now).
    fills_size = sum((f.size for f in fills), Decimal(0))
    coid = journaled.client_order_id
    order = None if spec is None else fitted_order(intent, coid, spec, intent.reference_mark)
    if not isinstance(order, TrackedOrder):  # cannot be sent as it is now: never resent
        order = TrackedOrder(
            intent_id=intent.intent_id, client_order_id=coid,
            correlation_id=intent.message_id, symbol=intent.symbol, side=intent.side,
            purpose=intent.purpose, order_type=intent.order_type, size=intent.size,
            limit_price=intent.limit_price, status=_S.PENDING_SUBMIT, intent=intent,
            contract_size=spec.contract_size if spec is not None else Decimal(1),
        )  # fmt: skip
    # The journaled fills are in the portfolio's book: it rebuilt it from them.
    order = attrs.evolve(
        order, fill_ids=fill_ids, fills_size=fills_size, booked_size=fills_size,
        journaled=True, restored=True,
    )  # fmt: skip
    if last is None:
        return order
    return attrs.evolve(
        order,
        status=last.status,
        published=last.status,
        venue_order_id=last.venue_order_id,
        filled_size=last.filled_size,
        average_fill_price=last.average_fill_price,
    )


def adopted_order(found: VenueOrder, position: Decimal, spec: ProductSpec | None) -> TrackedOrder:
    """The venue's open order ``found``, of ours by its prefix, that the ledger does not hold;
    ``position`` is the portfolio's in its symbol (an order that shrinks it is an exit)."""
    side = Side(found.side)
    shrinks = position != 0 and (position > 0) != (side is Side.BUY)
    coid = found.client_order_id
    return TrackedOrder(
        intent_id=f"adopted:{coid}",
        client_order_id=coid,
        correlation_id=coid,
        symbol=found.symbol,
        side=side,
        purpose=IntentPurpose.EXIT if shrinks else IntentPurpose.ENTRY,
        order_type=OrderType.LIMIT if found.limit_price is not None else OrderType.MARKET,
        size=found.size or found.filled_size,
        limit_price=found.limit_price,
        contract_size=spec.contract_size if spec is not None else Decimal(1),
        status=venue_state(found.status, Decimal(0)) or _S.ACKNOWLEDGED,
        venue_order_id=found.venue_order_id,
    )
