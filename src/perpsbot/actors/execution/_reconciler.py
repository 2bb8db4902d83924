"""Runs the executor's reconciliations: at startup from the journal, then periodically.

A pass reads the venue (:func:`read_venue`), plans each order (:func:`plan`) and applies the
plan through the :class:`OrderDesk`: every fill it finds is published before the order's new
state, and ``AccountReconciled`` (the venue's positions, wallets and equity) after all of
them, naming the symbols whose orders were unsettled while the venue was read or were acted
on by the pass: the portfolio corrects its book from the read for the other symbols only, so
an older read never overwrites a newer fill. ``AccountReconciled`` also carries the sweep
(:mod:`~perpsbot.actors.execution._sweep`): the venue's fills of ours that no order path publishes,
which the portfolio books before it corrects, so no fill is ever lost to a correction.
Then ``ReconciliationCompleted`` lists, for people, what was corrected. No order goes out
until the portfolio's ``PortfolioValued`` answers that ``AccountReconciled``
(``OrderDesk.book_pending``): the positions the executor holds may be the ones the
portfolio is correcting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._order_states import TrackedOrder, venue_state
from perpsbot.actors.execution._quantize import fitted_order
from perpsbot.actors.execution._reconcile import (
    Action,
    Adopt,
    Expire,
    Lookup,
    Settle,
    Submit,
    Unproven,
    Vanished,
    plan,
    read_venue,
)
from perpsbot.actors.execution._sweep import FillSweep
from perpsbot.clock import Clock
from perpsbot.errors import PerpsbotError
from perpsbot.messages import (
    AccountReconciled,
    IntentPurpose,
    JournaledOrder,
    OrdersRead,
    OrderStatus,
    OrderType,
    ReadOrders,
    Reconcile,
    ReconciliationCompleted,
    ReconciliationStarted,
    Side,
    Stamper,
    SyncTimedOut,
    TransitionSource,
    VenuePosition,
)
from perpsbot.runtime import ActorAddress, ActorTimers
from perpsbot.venue.gateway import VenueOrder

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
_RECONCILIATION = TransitionSource.RECONCILIATION
_MAX_RETRY_S = 60.0
_MISSES_TO_SETTLE = 5
#: How long an acknowledged order the venue stopped showing stays in flight before it is
#: settled as cancelled (a venue's lists may lag long behind its matching engine).
_VANISHED_FOR_NS = 15 * 60 * 10**9


#: How long the journal may take to answer ReadOrders before the startup attempt fails.
_SYNC_TIMEOUT_S = 10.0


class Reconciler:
    """Startup and periodic reconciliation (see the module docstring), and when they run.

    The startup asks the journal for its unfinished orders (``ReadOrders``, answered by
    ``OrdersRead`` after a commit); a failed startup is retried with a growing delay (the executor's
    ``Reconcile`` timer); the periodic pass runs on that timer too, or :meth:`soon`.

    Args:
        desk: sends, follows and holds the orders.
        journal: the journal actor (``ReadOrders``).
        reply_to: the executor (``OrdersRead``).
        timers: the executor's timers (``Reconcile``, :class:`SyncTimedOut`).
        clock: time (intent TTLs).
        stamper: stamps published messages.
        soon_s: how soon :meth:`soon` reconciles.
    """

    def __init__(
        self,
        *,
        desk: OrderDesk,
        journal: ActorAddress,
        reply_to: ActorAddress,
        timers: ActorTimers,
        clock: Clock,
        stamper: Stamper,
        soon_s: float,
    ) -> None:
        self._desk = desk
        self._journal = journal
        self._reply_to = reply_to
        self._timers = timers
        self._clock = clock
        self._stamper = stamper
        self._soon_s = soon_s
        self.done = False
        """True once a startup reconciliation succeeded: only then are orders placed."""
        self._pending_sync: str | None = None
        self._due = False  # a reconciliation is scheduled by soon()
        self._failures = 0
        self.passes = 0
        self.failures = 0
        self.sweep = FillSweep(stamper=stamper, now_ns=clock.time_ns)

    # -- when ------------------------------------------------------------------------------

    def begin(self, reason: str) -> None:
        """Start a startup attempt: publish ``ReconciliationStarted`` and ask the journal for
        its unfinished orders."""
        message_id, ts = self._stamper.stamp()
        self._desk.publish(
            ReconciliationStarted(message_id=message_id, ts_created_ns=ts, reason=reason)
        )
        message_id, ts = self._stamper.stamp()
        self._pending_sync = message_id
        self._journal.tell(
            ReadOrders(message_id=message_id, ts_created_ns=ts, reply_to=self._reply_to)
        )
        self._timers.once(_SYNC_TIMEOUT_S, SyncTimedOut(sync_id=message_id))

    def orders_read(self, message: OrdersRead) -> None:
        if message.correlation_id != self._pending_sync:
            return  # the answer to an attempt that timed out already
        self._pending_sync = None
        if message.error:
            self._failed(f"the journal could not be read: {message.error}", startup=True)
            self._retry_startup()
        elif not self._startup(message.orders):
            self._retry_startup()

    def sync_timed_out(self, message: SyncTimedOut) -> None:
        if message.sync_id != self._pending_sync:
            return
        self._pending_sync = None
        self._failed(
            f"the journal did not answer ReadOrders within {_SYNC_TIMEOUT_S:.0f}s", startup=True
        )
        self._retry_startup()

    def soon(self) -> None:
        """An in-flight reconciliation after ``soon_s`` (one, however many orders ask for it
        meanwhile)."""
        if not self._due:
            self._due = True
            self._timers.once(self._soon_s, Reconcile())

    def due(self) -> None:
        """The ``Reconcile`` timer: the periodic pass, or the next startup attempt."""
        self._due = False
        if self.done:
            self._periodic()
        elif self._pending_sync is None:
            self.begin("retry")

    def _retry_startup(self) -> None:
        delay = self._retry_delay_s()
        logger.warning("startup reconciliation failed; retrying in %.1fs", delay)
        self._timers.once(delay, Reconcile())

    # -- what ------------------------------------------------------------------------------

    def _startup(self, journaled: Sequence[JournaledOrder]) -> bool:
        """Reconcile the journal's unfinished orders with the venue; False if it failed (it
        was reported, and should be retried after :meth:`retry_delay_s`)."""
        try:
            self._desk.products.load()
            for order in journaled:
                if order.client_order_id not in self._desk.ledger:
                    self._desk.ledger.hold(self._from_journal(order))
            self._run(startup=True)
        except PerpsbotError as exc:
            self._failed(f"{type(exc).__name__}: {exc}", startup=True)
            return False
        self.done = True
        return True

    def _periodic(self) -> None:
        """Reconcile in-flight orders and compare positions with the venue's."""
        try:
            self._run(startup=False)
        except PerpsbotError as exc:
            self._failed(f"{type(exc).__name__}: {exc}", startup=False)

    def _failed(self, error: str, *, startup: bool) -> None:
        self._failures += 1
        self.failures += 1
        logger.warning(
            "reconciliation failed (%s): %s", "startup" if startup else "periodic", error
        )
        message_id, ts = self._stamper.stamp()
        self._desk.publish(
            ReconciliationCompleted(
                message_id=message_id, ts_created_ns=ts, success=False, startup=startup,
                error=error,
            )
        )  # fmt: skip

    def _retry_delay_s(self) -> float:
        """Exponential from 1 s after each consecutive failure, at most a minute."""
        return float(min(_MAX_RETRY_S, 2.0 ** max(0, self._failures - 1)))

    # -- a pass ----------------------------------------------------------------------------

    def _from_journal(self, journaled: JournaledOrder) -> TrackedOrder:
        intent, last, fills = journaled.intent, journaled.order, journaled.fills
        fill_ids = frozenset(f.fill_id for f in fills)
        # What was published as fills: the journaled filled size may be more, when the venue
        # reported it before its fills could be read (those are read now).
        fills_size = sum((f.size for f in fills), Decimal(0))
        coid = journaled.client_order_id
        spec = self._desk.products.get(intent.symbol)
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

    def _run(self, *, startup: bool) -> None:
        desk = self._desk
        targets = [o for o in desk.ledger.unfinished() if o.in_flight or o.unsent]
        # Symbols whose orders may move while the venue is read: its read is no correction.
        unsettled = set(desk.unsettled_symbols())
        venue = read_venue(
            desk.gateway,
            specs=desk.products.specs,
            lookups=[Lookup(client_order_id=o.client_order_id, venue_order_id=o.venue_order_id,
                            symbol=o.symbol) for o in targets],
            fills_since_ns=self.sweep.since_ns(),
        )  # fmt: skip
        corrections: list[str] = []
        actions = plan(
            desk.ledger.snapshot(), [o.client_order_id for o in targets], venue,
            self._clock.time_ns(),
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
        swept = self.sweep.of_ours(
            venue.fills, ledger=desk.ledger, gateway=desk.gateway, spec=desk.products.get
        )
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
        self._failures = 0
        self.passes += 1

    def _symbol_of(self, action: Action) -> str | None:
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
        spec = desk.products.get(found.symbol)
        side = Side(found.side)
        held = desk.position(found.symbol)
        shrinks = held != 0 and (held > 0) != (side is Side.BUY)
        size = found.size or found.filled_size
        coid = found.client_order_id
        desk.ledger.hold(
            TrackedOrder(
                intent_id=f"adopted:{coid}",
                client_order_id=coid,
                correlation_id=coid,
                symbol=found.symbol,
                side=side,
                purpose=IntentPurpose.EXIT if shrinks else IntentPurpose.ENTRY,
                order_type=OrderType.LIMIT if found.limit_price is not None else OrderType.MARKET,
                size=size,
                limit_price=found.limit_price,
                contract_size=spec.contract_size if spec is not None else Decimal(1),
                status=venue_state(found.status, Decimal(0)) or _S.ACKNOWLEDGED,
                venue_order_id=found.venue_order_id,
            )
        )
        desk.ledger.announce(coid, _RECONCILIATION, "adopted: one of ours the journal did not hold")
        desk.apply_order(coid, found, _RECONCILIATION)
        return (
            f"adopted open order {coid} ({side.value} {format(size, 'f')} {found.symbol}),"
            " which carries our prefix but was not in the journal"
        )
