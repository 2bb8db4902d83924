"""Reconciliation: read what the venue holds, then decide what each order becomes.

:func:`read_venue` reads the venue through its gateway (on the executor's thread);
:func:`plan` is pure: from the orders the executor tracks and the venue's view it decides, per
order, one action:

- ``Settle``: the venue knows the order; take its status, filled size and fills (on a venue
  that does not deduplicate client ids, only an order that is ours: of our venue id, or of
  the symbol, side and size we asked for; others carrying our id are foreign, ``_foreign``);
- ``Adopt``: an open order that carries our client-id prefix but that we do not know (where
  client ids are not deduplicated, only under a label the journal issued, and only if the
  journal holds no other venue id for it: anyone may carry our prefix there);
- ``Foreign``: an open order of our prefix under a label the journal never issued, or under
  one it issued for an order of another venue id, on a venue that does not deduplicate
  client ids: a stranger's, left alone and counted;
- ``Submit``: never acknowledged, not at the venue, still within its TTL: send it if the
  trading state allows it, with the same client order id; one never sent that a cancel was
  asked for is cancelled instead. One sent whose answer was lost is sent again only when
  that cannot make a second order: the venue deduplicates client ids (the gateway settles a
  reused id as the existing order), or the lookup proved it absent after its attempt's
  send-by instant;
- ``Unproven``: sent, its answer lost, within its TTL, on a venue that does not deduplicate
  client ids, and not proven absent (only foreign orders carrying its id prove nothing): it
  stays UNKNOWN, looked for again, never sent (at worst a missed trade, never a duplicate);
  past its TTL it is ``Vanished``. On such a venue an order the journal holds as
  PENDING_SUBMIT was never sent (a request goes out only once the journal holds its
  SUBMITTED): it matches no venue order (every one carrying its id is foreign) and is sent
  within its TTL, expired past it. Where ids are deduplicated a restored PENDING_SUBMIT may
  have been sent (its SUBMITTED journaled after the fact): past its TTL it is looked for;
- ``Expire``: never sent, not at the venue, past its TTL: never sent again;
- ``Vanished``: acknowledged once, or sent with its answer lost and past its TTL or with a
  cancel asked for, but the venue does not show it (its lists may lag: the executor looks
  again, several times, before it settles the order; it is never sent again past its TTL,
  and an order that may exist is never settled as if it had not been sent).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.actors.execution._foreign import IssuedLabels, is_ours
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.errors import OrderNotFoundError, VenueError
from perpsbot.ids import is_our_client_order_id
from perpsbot.messages import FuturesAccount, OrderStatus, ProductSpec, VenuePosition
from perpsbot.venue.gateway import VenueFill, VenueGateway, VenueOrder

logger = logging.getLogger("perpsbot.actors.executor")

_NEVER_ACKNOWLEDGED = frozenset(
    {OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN}
)


@attrs.frozen(kw_only=True)
class Lookup:
    """An order whose venue state reconciliation needs."""

    client_order_id: str
    venue_order_id: str | None
    symbol: str
    sent: bool = True
    """False for a PENDING_SUBMIT: where client ids are not deduplicated nothing at the venue
    is it, and it is not looked for."""


@attrs.frozen(kw_only=True)
class VenueView:
    """What the venue showed at one reconciliation."""

    orders: Mapping[str, VenueOrder]
    """Our orders the venue knows, by client order id (open ones and the ones looked up)."""
    open_ours: tuple[VenueOrder, ...]
    foreign_open: int
    """Open orders in the configured symbols that do not carry our prefix (left alone)."""
    positions: tuple[VenuePosition, ...]
    """Futures positions (spot positions are the bot's own: see :func:`spot_positions`)."""
    spot_wallets: Mapping[str, Decimal]
    """Spot symbols: how much of the base currency the wallet holds."""
    equity: Decimal | None
    futures: FuturesAccount | None = None
    """The futures account's margin; None without futures symbols."""
    fills: tuple[VenueFill, ...] | None = ()
    """The venue's fills in the configured symbols since ``fills_since_ns`` (read before the
    positions), ours and others'; None if reading them failed."""
    deduplicates_client_ids: bool = True
    """The venue recognises a reused client order id (see ``VenueGateway``)."""
    unprovable: frozenset[str] = frozenset()
    """Client order ids looked up, not found, and not provably absent."""
    carrying: Mapping[str, tuple[VenueOrder, ...]] = attrs.field(factory=dict)
    """Client order ids looked up that more than one order carries: all of them (a venue
    that does not deduplicate them; the others are foreign)."""

    @property
    def liquidation_buffer_pct(self) -> Decimal | None:
        return None if self.futures is None else self.futures.buffer_share


def _get_order(gateway: VenueGateway, venue_order_id: str) -> VenueOrder | None:
    try:
        return gateway.get_order(venue_order_id)
    except OrderNotFoundError:
        return None


def read_venue(
    gateway: VenueGateway,
    *,
    specs: Mapping[str, ProductSpec],
    lookups: Iterable[Lookup],
    fills_since_ns: int,
) -> VenueView:
    """The venue's orders, fills (since ``fills_since_ns``), positions and equity for the
    symbols of ``specs``. The fills are read before the positions: a fill made in between is
    in the positions and not among the fills (adopted by a correction, found by the next
    sweep), never among the fills and not in the positions.

    Raises:
        VenueError: a read failed (but the fills'); the reconciliation did not happen.
    """
    symbols = sorted(specs)
    deduplicates = gateway.deduplicates_client_ids
    open_orders = gateway.open_orders(symbols)
    ours = [o for o in open_orders if is_our_client_order_id(o.client_order_id)]
    orders = {o.client_order_id: o for o in ours}
    open_by_id = {o.venue_order_id: o for o in ours}
    unacknowledged: set[str] = set()
    for lookup in lookups:
        coid, venue_id = lookup.client_order_id, lookup.venue_order_id
        if venue_id is None and not lookup.sent and not deduplicates:
            orders.pop(coid, None)  # an open order carrying its id is a stranger's
            continue
        if venue_id is None:
            if coid not in orders or not deduplicates:
                # Where others may reuse our ids, an open order carrying it proves nothing:
                # the lookup by client order id lists every order that carries it.
                orders.pop(coid, None)
                unacknowledged.add(coid)
            continue
        if coid in orders and orders[coid].venue_order_id == venue_id:
            continue
        found = open_by_id.get(venue_id) or _get_order(gateway, venue_id)
        if found is None:
            orders.pop(coid, None)  # an open order of another id carrying ours is not it
        else:
            orders[coid] = found
    unprovable: frozenset[str] = frozenset()
    carrying: Mapping[str, tuple[VenueOrder, ...]] = {}
    if unacknowledged:
        by_client_id = gateway.orders_by_client_id(symbols, unacknowledged)
        orders.update(by_client_id.found)
        unprovable = by_client_id.unprovable
        carrying = by_client_id.carrying
    fills: tuple[VenueFill, ...] | None
    try:
        fills = tuple(gateway.fills_since(symbols, fills_since_ns))
    except VenueError as exc:
        # A pass without its sweep still holds: a fill it missed is adopted by a correction
        # now and booked, superseding it, by the next pass's sweep.
        logger.warning("reconciliation: reading the venue's fills failed, no sweep: %s", exc)
        fills = None
    account = gateway.account(specs)
    return VenueView(
        orders=orders,
        open_ours=tuple(ours),
        foreign_open=len(open_orders) - len(ours),
        positions=account.positions,
        spot_wallets=account.spot_wallets,
        equity=account.equity,
        futures=account.futures,
        fills=fills,
        deduplicates_client_ids=deduplicates,
        unprovable=unprovable,
        carrying=carrying,
    )


@attrs.frozen(kw_only=True)
class Settle:
    client_order_id: str
    venue: VenueOrder


@attrs.frozen(kw_only=True)
class Adopt:
    venue: VenueOrder


@attrs.frozen(kw_only=True)
class Foreign:
    venue: VenueOrder
    why: str = ""
    """Why it is a stranger's (the label it carries)."""


@attrs.frozen(kw_only=True)
class Submit:
    client_order_id: str


@attrs.frozen(kw_only=True)
class Expire:
    client_order_id: str
    reason: str


@attrs.frozen(kw_only=True)
class Vanished:
    client_order_id: str


@attrs.frozen(kw_only=True)
class Unproven:
    client_order_id: str
    reason: str


Action = Settle | Adopt | Foreign | Submit | Expire | Vanished | Unproven


def _within_ttl(order: TrackedOrder, now_ns: int) -> bool:
    return order.valid_until_ns is not None and now_ns <= order.valid_until_ns


def _doubt(order: TrackedOrder, venue: VenueView, now_ns: int) -> str:
    """Why sending ``order`` (sent, its answer lost, not found) again might make a second
    order; empty if it cannot."""
    if venue.deduplicates_client_ids:
        return ""
    coid = order.client_order_id
    send_by_ns = None if order.request is None else order.request.send_by_ns
    if coid in venue.unprovable:
        return "not at the venue, but not provably absent: not sent again, looked for"
    if coid in venue.orders:
        return (
            "only others' orders carry its client order id: its own is not provably absent,"
            " not sent again, looked for"
        )
    if send_by_ns is None:
        return "its attempt had no send-by instant: absence cannot be proven, looked for"
    if now_ns <= send_by_ns:
        return "its attempt's send-by instant has not passed: not sent again, looked for"
    return ""


def plan(
    orders: Mapping[str, TrackedOrder],
    reconcile: Sequence[str],
    venue: VenueView,
    now_ns: int,
    issued: IssuedLabels | None = None,
) -> list[Action]:
    """What to do with each order of ``reconcile`` (client order ids of ``orders``) and with
    open orders of ours the venue shows that ``orders`` does not hold (or holds as finished).
    ``issued``: the labels the journal issued, with the venue order ids it holds for them
    (None: every label of our prefix counts as ours, as where client ids are deduplicated)."""
    actions: list[Action] = []
    for coid in reconcile:
        order = orders[coid]
        found = _ours(order, venue)
        if found is not None:
            actions.append(Settle(client_order_id=coid, venue=found))
        elif order.status.terminal:
            continue  # finished, its fills still to be read or booked: nothing to look for
        elif order.status not in _NEVER_ACKNOWLEDGED or order.venue_order_id is not None:
            actions.append(Vanished(client_order_id=coid))
        elif order.status is OrderStatus.PENDING_SUBMIT:
            if _within_ttl(order, now_ns):
                actions.append(Submit(client_order_id=coid))  # or cancelled, if asked to be
            elif order.restored and venue.deduplicates_client_ids:
                # Its SUBMITTED may have died with the process: past its TTL it is looked
                # for as a sent order is (the venue's lists lag), never settled on one miss.
                actions.append(Vanished(client_order_id=coid))
            else:
                actions.append(
                    Expire(
                        client_order_id=coid,
                        reason="not at the venue by client order id and past its TTL: never sent",
                    )
                )
        elif _within_ttl(order, now_ns) and not order.cancel_requested:
            doubt = _doubt(order, venue, now_ns)
            if doubt:
                actions.append(Unproven(client_order_id=coid, reason=doubt))
            else:
                actions.append(Submit(client_order_id=coid))
        else:
            # Sent, its answer lost, and past its TTL or to be cancelled: it may exist (and
            # have filled) where the venue's lists do not show it yet, so it is looked for
            # again, never sent again and never settled here as if it had not been sent.
            actions.append(Vanished(client_order_id=coid))
    listed = set(reconcile)
    for found in venue.open_ours:
        coid = found.client_order_id
        if coid in listed:
            continue
        known = orders.get(coid)
        if known is None and (
            venue.deduplicates_client_ids
            or issued is None
            or issued.claims(coid, found.venue_order_id)
        ):
            actions.append(Adopt(venue=found))
        elif known is None:
            assert issued is not None  # the first branch took every order where it is None
            actions.append(Foreign(venue=found, why=issued.why_foreign(coid)))
        elif known.status.terminal and is_ours(
            known, found, deduplicates=venue.deduplicates_client_ids
        ):
            actions.append(Settle(client_order_id=coid, venue=found))
    return actions


def _ours(order: TrackedOrder, venue: VenueView) -> VenueOrder | None:
    """The order the venue shows for ``order``: of those carrying its client order id, the
    first that is ``order`` itself (see ``_foreign``); None if none is."""
    coid = order.client_order_id
    shown = venue.carrying.get(coid) or ((venue.orders[coid],) if coid in venue.orders else ())
    dedup = venue.deduplicates_client_ids
    return next((o for o in shown if is_ours(order, o, deduplicates=dedup)), None)
