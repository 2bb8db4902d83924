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

from collections.abc import Iterable

from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.messages import OrderStatus
from perpsbot.venue.gateway import VenueOrder

__all__ = ["IssuedLabels", "is_ours"]


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


class IssuedLabels:
    """The labels that may have reached the venue: those the journal issued (at start) and
    those this process wrote; and, of the journal's, the venue order id it holds for each.

    Where labels are not deduplicated an order of our prefix the executor does not hold is
    ours only under such a label, and only if the journal holds no other venue id for it: a
    stranger may reuse a label whose order the journal holds finished (docs/venues/
    global-derivatives.md 2.2, rule 8). Under a label whose venue id the journal never got
    (the answer was lost) the order found is taken, as before.
    """

    def __init__(self) -> None:
        self._labels: set[str] = set()
        self._venue_ids: dict[str, str] = {}

    def take_in(self, labels: Iterable[str], venue_ids: Iterable[tuple[str, str]] = ()) -> None:
        """The journal's labels and the venue order ids it holds for them."""
        self._labels.update(labels)
        self._venue_ids.update(venue_ids)

    def add(self, label: str) -> None:
        """A label this process writes from now on."""
        self._labels.add(label)

    def __contains__(self, label: object) -> bool:
        return label in self._labels

    def claims(self, label: str, venue_order_id: str) -> bool:
        """Whether an order ``venue_order_id`` under ``label`` may be ours: the label was
        issued and the journal holds no other venue order id for it."""
        return label in self._labels and self._venue_ids.get(label, venue_order_id) == (
            venue_order_id
        )

    def why_foreign(self, label: str) -> str:
        """Why an order under ``label`` that :meth:`claims` refused is a stranger's."""
        if label in self._labels:
            return (
                f"under a label the journal issued ({label}) for order {self._venue_ids.get(label)}"
            )
        return f"under a label the journal never issued ({label})"
