"""Orders of others that carry one of our client order ids.

A venue that does not deduplicate client order ids (the Global gateway's labels, "not
guaranteed unique") lets anyone on the account reuse one of ours. Such an order, and its
fills, are never taken for ours: once the venue told us our order's id, an order of another
id is foreign; before (its create answer lost), an order of another symbol, side or size than
we asked for is. Two orders identical in all of these cannot be told apart by anyone: the
earliest is taken (docs/venues/global-derivatives.md 2.2, rule 8). An order never sent
(PENDING_SUBMIT, or ended from it) has no order at the venue: every one carrying its id is
foreign. (On such a venue a request goes out only once the journal holds its SUBMITTED, so
an order the journal holds as PENDING_SUBMIT was never sent.)
"""

from __future__ import annotations

from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.messages import OrderStatus
from perpsbot.venue.gateway import VenueOrder

__all__ = ["is_ours"]


def is_ours(order: TrackedOrder, found: VenueOrder, *, deduplicates: bool) -> bool:
    """Whether ``found``, which carries ``order``'s client order id, is ``order`` itself."""
    if order.venue_order_id is not None:
        return found.venue_order_id == order.venue_order_id
    if deduplicates:
        return True  # the venue holds one order per client order id
    if order.status is OrderStatus.PENDING_SUBMIT or order.never_sent:
        return False  # never sent: no venue order is ours
    asked = order.request.size if order.request is not None else order.size
    return (
        found.symbol == order.symbol
        and found.side is order.side
        and (found.size is None or found.size == asked)
    )
