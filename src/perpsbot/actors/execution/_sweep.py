"""Reconciliation's sweep of the venue's fills: no fill of ours is ever lost.

An order's fills normally reach the portfolio on the order's own path (the desk reads them
when the venue's filled size grows). Some orders leave that path before the venue lists all
their fills: one whose create answer was lost, settled EXPIRED after several lookups that did
not find it; one the venue stopped showing, settled CANCELLED after a long wait; an order a
crash or the ledger's memory bound dropped. Their later fills would only ever reach the book
as a reconciliation's correction, never the journal.

So every reconciliation reads the venue's fills of the configured symbols (before the
positions: a fill made in between is at worst adopted by the correction now and found by the
next sweep) and carries, in ``AccountReconciled.fills``, every one of ours in the window
(:meth:`FillSweep.since_ns`) whose order the executor does not hold unfinished and did not
publish already. The sweep keeps the window's fills, so a pass reads only what may be new:
from :data:`LATE_LISTING_NS` before the previous read began (a fill listed up to that late
is found by the next pass), and the whole window at the first pass and every
:data:`FULL_READ_EVERY_NS` (a fill listed up to :data:`SWEEP_WINDOW_NS` late is found by the
next whole read: the window reaches back that much further). Passes that each re-read the
whole window parsed each fill of a day about 25 times. The portfolio books those it has not
booked before its corrections, in the same step, so a correction that had adopted such a
fill is reversed as the fill is booked and the position never shows it twice.

A venue's fill names its order by the venue's id only: the ledger knows its own orders' ids;
any other is looked up once (``get_order``, at most :data:`LOOKUPS_PER_PASS` a pass) and kept
as ours (its client order id carries our prefix, and where client ids are not deduplicated
it is a label the journal issued, for no other venue id) or foreign (never booked). A fill
the journal held at start (an earlier process's, booked from the journal) is not carried
again, nor its order looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from perpsbot.actors.execution._foreign import IssuedLabels, is_ours
from perpsbot.actors.execution._ledger import OrderLedger
from perpsbot.actors.execution._order_states import TrackedOrder, fill_message
from perpsbot.errors import OrderNotFoundError, VenueError
from perpsbot.ids import is_our_client_order_id
from perpsbot.messages import IntentPurpose, OrderFilled, ProductSpec, Side, Stamper
from perpsbot.venue.gateway import VenueFill, VenueGateway

logger = logging.getLogger("perpsbot.actors.executor")

#: How late the venue may list a fill (after its trade) for a sweep to find it.
SWEEP_WINDOW_NS = 24 * 3600 * 10**9
#: How often a pass reads the whole window again (the other passes read from
#: :data:`LATE_LISTING_NS` before the previous read).
FULL_READ_EVERY_NS = 6 * 3600 * 10**9
#: How late a fill may be listed for the very next pass to find it.
LATE_LISTING_NS = 3600 * 10**9
#: Orders the sweep looks up by venue id in one pass; the rest wait for the next pass (and
#: after a lookup that failed other than by "not found", the venue is slow or failing: none).
LOOKUPS_PER_PASS = 20


@attrs.frozen(kw_only=True)
class _Order:
    """What a fill's ``OrderFilled`` says of its order."""

    intent_id: str
    client_order_id: str
    correlation_id: str
    symbol: str
    side: Side
    purpose: IntentPurpose
    contract_size: Decimal


def _facts(order: TrackedOrder) -> _Order:
    return _Order(
        intent_id=order.intent_id, client_order_id=order.client_order_id,
        correlation_id=order.correlation_id, symbol=order.symbol, side=order.side,
        purpose=order.purpose, contract_size=order.contract_size,
    )  # fmt: skip


@attrs.frozen(kw_only=True)
class FillRead:
    """One pass's read of the venue's fills: those that traded since ``from_ns``, read at
    ``at_ns``; ``whole``: the whole window."""

    from_ns: int
    at_ns: int
    whole: bool


class FillSweep:
    """Finds the venue's fills of ours that no order path publishes (see the module
    docstring).

    Args:
        stamper: stamps the ``OrderFilled`` it builds.
        now_ns: business time (the window; a fill without a trade time is stamped with it).
    """

    def __init__(self, *, stamper: Stamper, now_ns: Callable[[], int]) -> None:
        self._stamper = stamper
        self._now_ns = now_ns
        self._window: dict[str, VenueFill] = {}  # fill id -> the venue's fill, newest first
        self._read_ns: int | None = None  # when the last read that succeeded began
        self._full_read_ns = 0  # when the last read of the whole window began
        self._looked_up: dict[str, _Order | None] = {}  # venue order id -> ours, or foreign
        self._booked: set[str] = set()  # fill ids the journal held at start
        self.lookups = 0
        self.carried = 0
        self.foreign = 0
        """Orders looked up that carry our prefix under a label the journal never issued, or
        under one it issued for an order of another venue id."""

    def booked_already(self, fill_ids: Iterable[str]) -> None:
        """Fills the journal holds (an earlier process's): the portfolio booked them from
        the journal, so they are neither carried nor their orders looked up."""
        self._booked.update(fill_ids)

    def since_ns(self) -> int:
        """Where the window starts now: a whole read, at most :data:`FULL_READ_EVERY_NS`
        after a fill was listed, still reaches back :data:`SWEEP_WINDOW_NS` before that."""
        return self._now_ns() - SWEEP_WINDOW_NS - FULL_READ_EVERY_NS

    def next_read(self) -> FillRead:
        """What this pass reads of the venue's fills (see the module docstring)."""
        now_ns, since_ns = self._now_ns(), self.since_ns()
        if self._read_ns is None or now_ns - self._full_read_ns >= FULL_READ_EVERY_NS:
            return FillRead(from_ns=since_ns, at_ns=now_ns, whole=True)
        return FillRead(
            from_ns=max(since_ns, self._read_ns - LATE_LISTING_NS), at_ns=now_ns, whole=False
        )

    def window(self, read: FillRead, fills: Sequence[VenueFill]) -> list[VenueFill]:
        """Take in ``fills``, what ``read`` found: the window's fills, newest first (a whole
        read's as listed; a partial read's before those it did not reach)."""
        listed = {f.fill_id: f for f in fills}
        if not read.whole:
            since_ns = self.since_ns()
            for fill_id, fill in self._window.items():
                if fill_id not in listed and (fill.ts_ns is None or fill.ts_ns >= since_ns):
                    listed[fill_id] = fill
        else:
            self._full_read_ns = read.at_ns
        self._window = listed
        self._read_ns = read.at_ns
        return list(listed.values())

    def of_ours(
        self,
        fills: Sequence[VenueFill],
        *,
        ledger: OrderLedger,
        gateway: VenueGateway,
        spec: Callable[[str], ProductSpec | None],
        issued: IssuedLabels,
    ) -> tuple[OrderFilled, ...]:
        """The fills of ``fills`` to carry: ours, of orders ``ledger`` does not hold
        unfinished, not published by it already."""
        listed = {f.venue_order_id for f in fills}
        # Only orders the window still lists are remembered: the memory is the window's.
        self._looked_up = {k: v for k, v in self._looked_up.items() if k in listed}
        self._booked &= {f.fill_id for f in fills}
        fills = [f for f in fills if f.fill_id not in self._booked]
        lookups = 0
        carried: list[OrderFilled] = []
        for fill in fills:
            venue_id = fill.venue_order_id
            order: _Order | None
            if (held := ledger.by_venue_id(venue_id)) is not None:
                if not held.settled or held.fills_behind or fill.fill_id in held.fill_ids:
                    continue  # as below, before building its facts: the usual fill
                order = _facts(held)
            elif venue_id in self._looked_up:
                order = self._looked_up[venue_id]
            elif lookups < LOOKUPS_PER_PASS:
                lookups += 1
                try:
                    order = self._look_up(venue_id, ledger, gateway, spec, issued)
                except VenueError as exc:
                    logger.warning("sweep: reading order %s failed: %s", venue_id, exc)
                    lookups = LOOKUPS_PER_PASS  # the next pass looks again
                    continue
            else:
                continue  # looked up by a later pass
            if order is None:
                continue  # not ours, or not readable now
            held = ledger.get(order.client_order_id)
            if held is not None and held.venue_order_id not in (None, venue_id):
                continue  # another order carrying our client order id: not ours
            if held is not None and (not held.settled or held.fills_behind):
                continue  # unfinished: its own path publishes its fills
            if held is not None and fill.fill_id in held.fill_ids:
                continue  # published on its own path already
            carried.append(self._filled(order, fill))
        self.carried += len(carried)
        return tuple(carried)

    def _look_up(
        self,
        venue_order_id: str,
        ledger: OrderLedger,
        gateway: VenueGateway,
        spec: Callable[[str], ProductSpec | None],
        issued: IssuedLabels,
    ) -> _Order | None:
        """The order of a fill the ledger does not hold by its venue id; None if it is not
        ours (remembered) or not shown yet (looked up again by the next pass).

        Raises:
            VenueError: reading it failed (but for "not found").
        """
        self.lookups += 1
        try:
            found = gateway.get_order(venue_order_id)
        except OrderNotFoundError:  # the venue's lists lag: looked up again next pass
            return None
        coid = found.client_order_id
        held = ledger.get(coid)  # held without a venue id: its create answer was lost
        order = None
        if held is not None:
            ours = is_ours(held, found, deduplicates=gateway.deduplicates_client_ids)
            order = _facts(held) if ours else None
        elif is_our_client_order_id(coid) and (
            gateway.deduplicates_client_ids or issued.claims(coid, venue_order_id)
        ):  # where anyone may carry our prefix, only a label the journal issued is ours (and
            # only if the journal holds no other venue id for it)
            product = spec(found.symbol)
            order = _Order(
                intent_id=f"swept:{coid}", client_order_id=coid, correlation_id=coid,
                symbol=found.symbol, side=found.side, purpose=IntentPurpose.ENTRY,
                contract_size=product.contract_size if product is not None else Decimal(1),
            )  # fmt: skip
        elif is_our_client_order_id(coid):
            self.foreign += 1
            logger.warning(
                "sweep: order %s carries our prefix %s: a stranger's, its fills never booked",
                venue_order_id, issued.why_foreign(coid),
            )  # fmt: skip
        self._looked_up[venue_order_id] = order
        return order

    def _filled(self, order: _Order, fill: VenueFill) -> OrderFilled:
        return fill_message(
            order, fill, fill_id=fill.fill_id, stamper=self._stamper, now_ns=self._now_ns
        )
