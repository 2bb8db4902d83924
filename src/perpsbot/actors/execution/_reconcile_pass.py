"""One reconciliation pass: read the venue, settle each order by the plan, publish the read.

A pass reads the venue (:func:`read_venue`), plans each order (:func:`plan`) and applies the
plan through the :class:`OrderDesk`: every fill it finds is published before the order's new
state, and ``AccountReconciled`` (the venue's positions, wallets and equity) after all of
them, naming the symbols whose orders were unsettled while the venue was read or were acted
on by the pass: the portfolio corrects its book from the read for the other symbols only, so
an older read never overwrites a newer fill. ``AccountReconciled`` also carries the sweep
(:mod:`~perpsbot.actors.execution._sweep`): the venue's fills of ours that no order path
publishes, which the portfolio books before it corrects, so no fill is ever lost to a
correction. Then ``ReconciliationCompleted`` lists, for people, what was corrected. No order
goes out until the portfolio's ``PortfolioValued`` answers that ``AccountReconciled``
(``OrderDesk.book_pending``): the positions the executor holds may be the ones the portfolio
is correcting. When passes run is the :class:`~perpsbot.actors.execution._reconciler.Reconciler`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal

from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._reconcile import (
    Action,
    Adopt,
    Expire,
    Foreign,
    Lookup,
    Settle,
    Submit,
    Unproven,
    Vanished,
    plan,
    read_venue,
)
from perpsbot.actors.execution._sweep import FillSweep
from perpsbot.actors.execution._taken_in import adopted_order
from perpsbot.clock import Clock
from perpsbot.messages import (
    AccountReconciled,
    OrderStatus,
    ReconciliationCompleted,
    Stamper,
    TransitionSource,
    VenuePosition,
)
from perpsbot.venue.gateway import VenueOrder

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
_RECONCILIATION = TransitionSource.RECONCILIATION
_MISSES_TO_SETTLE = 5
#: How long an acknowledged order the venue stopped showing stays in flight before it is
#: settled as cancelled (a venue's lists may lag long behind its matching engine).
_VANISHED_FOR_NS = 15 * 60 * 10**9


class ReconcilePass:
    """Runs reconciliation passes (see the module docstring).

    Args:
        desk: sends, follows and holds the orders.
        clock: time (intent TTLs, how long an order has been missing).
        stamper: stamps published messages.
    """

    def __init__(self, *, desk: OrderDesk, clock: Clock, stamper: Stamper) -> None:
        self._desk = desk
        self._clock = clock
        self._stamper = stamper
        self.sweep = FillSweep(stamper=stamper, now_ns=clock.time_ns)
        self._foreign: set[str] = set()  # venue ids of strangers' open orders, counted once

    def run(self, *, startup: bool) -> None:
        """One pass: read the venue, settle each order by the plan, publish
        ``AccountReconciled`` and ``ReconciliationCompleted``.

        Raises:
            PerpsbotError: reading the venue failed; nothing was published.
        """
        desk = self._desk
        # An order not written yet (waiting for the journal or the portfolio) is not at the
        # venue: not looked for (every order carrying its id is a stranger's until then).
        targets = [
            o for o in desk.ledger.unfinished()
            if (o.in_flight or o.unsent) and not desk.unwritten(o.client_order_id)
        ]  # fmt: skip
        # Symbols whose orders may move while the venue is read: its read is no correction.
        unsettled = set(desk.unsettled_symbols())
        fill_read = self.sweep.next_read()
        venue = read_venue(
            desk.gateway,
            specs=desk.products.specs,
            lookups=[Lookup(client_order_id=o.client_order_id, venue_order_id=o.venue_order_id,
                            symbol=o.symbol, sent=o.status is not _S.PENDING_SUBMIT)
                     for o in targets],
            fills_since_ns=fill_read.from_ns,
        )  # fmt: skip
        corrections: list[str] = []
        actions = plan(
            desk.ledger.snapshot(), [o.client_order_id for o in targets], venue,
            self._clock.time_ns(), desk.issued,
        )  # fmt: skip
        seen = {
            o.client_order_id: desk.ledger.updates_published(o.client_order_id) for o in desk.ledger
        }
        for action in actions:
            line = self._apply(action)
            if line:
                corrections.append(line)
        if startup:
            self._announce_unchanged(seen)
        desk.catch_up_fills()
        # After the pass moved its orders: an order it settled or adopted is counted as it is.
        # Which of these fills are new only the portfolio knows (it booked the journal's):
        # it says so of each it books.
        swept = () if venue.fills is None else self.sweep.of_ours(
            self.sweep.window(fill_read, venue.fills),
            ledger=desk.ledger,
            gateway=desk.gateway,
            spec=desk.products.get,
            issued=desk.issued,
        )  # fmt: skip
        # An order sent, settled or adopted by this pass, or whose fills are still to be read
        # or booked: the venue's read may be older than the book for its symbol.
        unsettled |= desk.unsettled_symbols()
        unsettled |= {action_symbol for a in actions if (action_symbol := self._symbol_of(a))}
        if venue.foreign_open:
            corrections.append(
                f"{venue.foreign_open} open order(s) without our client-id prefix: left alone"
            )
        for line in corrections:
            logger.warning("reconciliation: %s", line)
        wallets = tuple(
            VenuePosition(symbol=symbol, quantity=wallet, average_entry_price=None,
                          contract_size=Decimal(1))
            for symbol, wallet in sorted(venue.spot_wallets.items())
        )  # fmt: skip
        message_id, ts = self._stamper.stamp()
        desk.publish(
            AccountReconciled(
                message_id=message_id, ts_created_ns=ts, equity=venue.equity,
                positions=venue.positions, liquidation_buffer_pct=venue.liquidation_buffer_pct,
                startup=startup, spot_wallets=wallets, unsettled=frozenset(unsettled),
                futures=venue.futures, fills=swept,
            )
        )  # fmt: skip
        desk.book_pending = message_id  # orders wait for the portfolio's answer to it
        message_id, ts = self._stamper.stamp()
        desk.publish(
            ReconciliationCompleted(
                message_id=message_id, ts_created_ns=ts, success=True, startup=startup,
                corrections=tuple(corrections),
            )
        )  # fmt: skip

    def _symbol_of(self, action: Action) -> str | None:
        if isinstance(action, Foreign):
            return None
        if isinstance(action, Adopt):
            return action.venue.symbol
        order = self._desk.ledger.get(action.client_order_id)
        return None if order is None else order.symbol

    def _announce_unchanged(self, seen: Mapping[str, int]) -> None:
        """Publish the unfinished orders the journal held that this pass published nothing
        of: the subscribers of a new process know of no order yet, and each may still move
        a position (risk counts it in flight, the strategy waits for it). That includes an
        order the venue finished whose fills are not booked: held terminal, it was not
        published by the move."""
        ledger = self._desk.ledger
        for order in ledger.unfinished():
            coid = order.client_order_id
            if seen.get(coid) == ledger.updates_published(coid):
                ledger.announce(coid, _RECONCILIATION, "open across the restart")

    def _apply(self, action: Action) -> str:
        desk = self._desk
        match action:
            case Settle(client_order_id=coid, venue=found):
                before = desk.ledger.get(coid)
                if before is not None and before.missing:
                    desk.ledger.mark(coid, missing=0, vanished_ns=None)  # shown again
                desk.apply_order(coid, found, _RECONCILIATION)
                after = desk.ledger.get(coid)
                if before is None or after is None or after.status is before.status:
                    return ""
                return (
                    f"order {coid} ({before.symbol}) was {before.status.value}, the venue shows"
                    f" it {found.status}: now {after.status.value}"
                )
            case Adopt(venue=found):
                return self._adopt(found)
            case Foreign(venue=found, why=why):
                if found.venue_order_id in self._foreign:
                    return ""
                self._foreign.add(found.venue_order_id)
                desk.stats["foreign_orders"] += 1
                return (
                    f"open order {found.venue_order_id} carries our prefix {why}: a"
                    " stranger's, left alone"
                )
            case Submit(client_order_id=coid):
                intent_id = desk.ledger[coid].intent_id
                not_sent = desk.send(coid, _RECONCILIATION)
                if not_sent is not None:
                    return f"intent {intent_id} is not at the venue by client order id: {not_sent}"
                # The venue may answer with an order that existed already (the same client
                # order id), which may have changed before the user channel followed it.
                desk.refresh_order(coid, _RECONCILIATION)
                return (
                    f"intent {intent_id} was not at the venue by client order id and is"
                    f" within its TTL: sent once as {coid}"
                )
            case Expire(client_order_id=coid, reason=reason):
                desk.ledger.move(coid, _S.EXPIRED, _RECONCILIATION, reason)
                return f"order {coid}: {reason}"
            case Vanished(client_order_id=coid):
                return self._vanished(coid)
            case Unproven(client_order_id=coid, reason=reason):
                # It may exist where the venue's lists do not show it yet: never sent again
                # unproven, looked for until found, proven absent, or past its TTL.
                desk.reconcile_soon()
                return f"order {coid}: {reason}"

    def _vanished(self, coid: str) -> str:
        """An order the venue does not show (acknowledged once, or sent with its answer lost
        and past its TTL). A venue's order lists lag behind its matching engine, so one miss
        proves nothing: the order stays in flight and is looked for again soon.

        One never acknowledged expires after :data:`_MISSES_TO_SETTLE` misses in a row: it
        never reached the venue. One the venue acknowledged stays in flight for
        :data:`_VANISHED_FOR_NS` after that, looked for at every reconciliation, before it is
        settled as cancelled (its fills read first). Meanwhile its symbol is spared
        corrections, and its size counts in flight. A fill either kind shows after it was
        settled reaches the book through the sweep (:mod:`~perpsbot.actors.execution._sweep`), which
        supersedes the correction that had adopted it."""
        desk = self._desk
        order = desk.ledger.mark(coid, missing=desk.ledger[coid].missing + 1)
        if order.missing < _MISSES_TO_SETTLE:
            desk.reconcile_soon()
            return ""
        if order.venue_order_id is None:  # sent, its answer lost, never found by its id
            desk.ledger.move(
                coid, _S.EXPIRED, _RECONCILIATION,
                f"not at the venue by client order id in {order.missing} reconciliations:"
                " it never reached the venue",
            )  # fmt: skip
            return f"order {coid}: never found at the venue; settled as expired"
        now_ns = self._clock.time_ns()
        if order.vanished_ns is None:
            desk.ledger.mark(coid, vanished_ns=now_ns)
            return f"order {coid}: the venue no longer shows it; still in flight, looked for"
        if now_ns - order.vanished_ns < _VANISHED_FOR_NS:
            return ""
        desk.fetch_fills(coid, order.venue_order_id)
        desk.ledger.move(
            coid, _S.CANCELLED, _RECONCILIATION,
            f"the venue has not shown this order in {order.missing} reconciliations over"
            f" {(now_ns - order.vanished_ns) / 60e9:.0f} minutes",
        )  # fmt: skip
        return f"order {coid}: the venue no longer shows it; settled as cancelled"

    def _adopt(self, found: VenueOrder) -> str:
        desk = self._desk
        order = adopted_order(found, desk.position(found.symbol), desk.products.get(found.symbol))
        coid = order.client_order_id
        desk.ledger.hold(order)
        desk.ledger.announce(coid, _RECONCILIATION, "adopted: one of ours the journal did not hold")
        desk.apply_order(coid, found, _RECONCILIATION)
        return (
            f"adopted open order {coid} ({order.side.value} {format(order.size, 'f')}"
            f" {found.symbol}), which carries our prefix but was not in the journal"
        )
