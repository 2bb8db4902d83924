"""Looking an order up by its label, for at-most-once ordering without an idempotency key
(docs/venues/global-derivatives.md 2.2, rule 4).

The venue does not deduplicate labels, so an order whose answer was lost may be sent again
only once it is *proven* absent: the venue's clock past the attempt's deadline (its
``valid_until``) plus a grace for visibility lag, and every lookup by label (open orders,
order state, history including unfilled orders, user trades, the historical lists for an
attempt older than the recent window) showing nothing, twice, at least a grace apart.
Anything less is "not provably absent": the order stays unknown and nothing is sent.
"""

from __future__ import annotations

import enum
import logging

import attrs

from perpsbot.errors import VenueError
from perpsbot.venue.global_derivatives.client import GlobalDerivativesClient
from perpsbot.venue.global_derivatives.records import Order, UserTrade

_log = logging.getLogger("perpsbot.venue.global.lookup")

#: The venue lists recent orders for 30 minutes; older ones only with ``historical`` (1.8).
RECENT_WINDOW_MS = 30 * 60 * 1000
#: Visibility lag allowed for, after a deadline and between the two clean passes.
DEFAULT_GRACE_MS = 5_000
_PAGE = 1000


class Finding(enum.Enum):
    FOUND = "found"
    ABSENT = "absent"
    NOT_PROVABLY_ABSENT = "not provably absent"


@attrs.frozen(kw_only=True)
class LabelLookup:
    """What one pass of lookups showed for ``label``.

    ``orders`` carry the label, earliest first (``creation_timestamp``, then ``order_id``):
    the first is ours, any other is foreign (rule 8). ``clean_since_ms`` is the venue time of
    the first pass that saw nothing: hand it to the next pass.
    """

    label: str
    finding: Finding
    orders: tuple[Order, ...] = ()
    trades: tuple[UserTrade, ...] = ()
    venue_now_ms: int = 0
    clean_since_ms: int | None = None
    reason: str = ""

    @property
    def ours(self) -> Order | None:
        return self.orders[0] if self.orders else None

    @property
    def foreign(self) -> tuple[Order, ...]:
        return self.orders[1:]


def look_up_label(
    client: GlobalDerivativesClient,
    *,
    instrument: str,
    currency: str,
    label: str,
    sent_at_ms: int | None,
    deadline_ms: int | None,
    clean_since_ms: int | None = None,
    grace_ms: int = DEFAULT_GRACE_MS,
) -> LabelLookup:
    """One pass of lookups for ``label`` on ``instrument``.

    Args:
        currency: the ``currency`` of the by-label methods for ``instrument``.
        sent_at_ms: the venue time of the first attempt (None: unknown, so the historical
            lists are asked too).
        deadline_ms: the last attempt's ``valid_until`` (None: it had none, so absence can
            never be proven).
        clean_since_ms: from the previous pass's answer, if that pass saw nothing.
    """
    try:
        now_ms = client.get_time_ms()
        orders, trades = _search(
            client,
            instrument=instrument,
            currency=currency,
            label=label,
            sent_at_ms=sent_at_ms,
            now_ms=now_ms,
        )
    except VenueError as exc:
        return LabelLookup(
            label=label,
            finding=Finding.NOT_PROVABLY_ABSENT,
            clean_since_ms=clean_since_ms,
            reason=f"a lookup failed: {exc}",
        )
    if orders or trades:
        if len(orders) > 1:
            _log.error(
                "label %r is carried by %d orders %s: the earliest is ours, the others foreign",
                label,
                len(orders),
                [o.order_id for o in orders],
            )
        return LabelLookup(
            label=label, finding=Finding.FOUND, orders=orders, trades=trades, venue_now_ms=now_ms
        )
    return _absence(label, now_ms, deadline_ms, clean_since_ms, grace_ms)


def _absence(
    label: str, now_ms: int, deadline_ms: int | None, clean_since_ms: int | None, grace_ms: int
) -> LabelLookup:
    def unproven(reason: str, clean: int | None) -> LabelLookup:
        return LabelLookup(
            label=label,
            finding=Finding.NOT_PROVABLY_ABSENT,
            venue_now_ms=now_ms,
            clean_since_ms=clean,
            reason=reason,
        )

    if deadline_ms is None:
        return unproven("the attempt had no deadline: absence cannot be proven", None)
    if now_ms < deadline_ms + grace_ms:
        return unproven(
            f"the venue's clock ({now_ms}) is not yet past the deadline {deadline_ms} plus"
            f" {grace_ms} ms",
            None,
        )
    if clean_since_ms is None:
        return unproven("nothing seen once; a second pass after the grace must agree", now_ms)
    if now_ms < clean_since_ms + grace_ms:
        return unproven(
            f"the second pass must come {grace_ms} ms after the first clean one", clean_since_ms
        )
    return LabelLookup(
        label=label, finding=Finding.ABSENT, venue_now_ms=now_ms, clean_since_ms=clean_since_ms
    )


def _search(
    client: GlobalDerivativesClient,
    *,
    instrument: str,
    currency: str,
    label: str,
    sent_at_ms: int | None,
    now_ms: int,
) -> tuple[tuple[Order, ...], tuple[UserTrade, ...]]:
    found: dict[str, Order] = {}
    for order in client.open_orders_by_label(currency, label):
        found[order.order_id] = order
    for order in client.order_state_by_label(currency, label):
        found[order.order_id] = order
    old = sent_at_ms is None or now_ms - sent_at_ms > RECENT_WINDOW_MS
    trades: list[UserTrade] = []
    for historical in (False, True) if old else (False,):
        for order in _history(client, instrument, historical):
            if order.label == label:
                found[order.order_id] = order
        trades += [
            t
            for t in client.user_trades(instrument, count=_PAGE, historical=historical)
            if t.label == label
        ]
    for trade in trades:
        if trade.order_id not in found:
            found[trade.order_id] = client.order_state(trade.order_id)
    ordered = sorted(found.values(), key=lambda o: (o.creation_timestamp, o.order_id))
    return tuple(ordered), tuple(trades)


def _history(client: GlobalDerivativesClient, instrument: str, historical: bool) -> list[Order]:
    """Every closed order of ``instrument`` the list holds, page by page."""
    orders: list[Order] = []
    offset = 0
    while True:
        page = client.order_history(
            instrument, count=_PAGE, offset=offset, include_unfilled=True, historical=historical
        )
        orders += page
        if len(page) < _PAGE:
            return orders
        offset += _PAGE
