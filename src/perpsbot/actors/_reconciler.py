"""Runs the executor's reconciliations: at startup from the journal, then periodically.

A pass reads the venue (:func:`read_venue`), plans each order (:func:`plan`) and applies the
plan through the :class:`OrderDesk`: every fill it finds is published before the order's new
state, and ``AccountReconciled`` (the venue's positions and equity) after all of them, so risk
can take its positions as the truth without counting a fill twice. Then
``ReconciliationCompleted`` lists, for people, what was corrected.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from perpsbot.actors._journal_view import JournaledIntent, JournalView
from perpsbot.actors._order_desk import OrderDesk
from perpsbot.actors._order_states import TrackedOrder, venue_state
from perpsbot.actors._quantize import fitted_order
from perpsbot.actors._reconcile import (
    Action,
    Adopt,
    Expire,
    Lookup,
    Settle,
    Submit,
    Vanished,
    plan,
    position_drift,
    read_venue,
)
from perpsbot.clock import Clock
from perpsbot.errors import PerpsbotError
from perpsbot.messages import (
    AccountReconciled,
    IntentPurpose,
    OrderStatus,
    OrderType,
    ReconciliationCompleted,
    ReconciliationStarted,
    Side,
    Stamper,
    TransitionSource,
)
from perpsbot.venue.records import Order

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
_RECONCILIATION = TransitionSource.RECONCILIATION
_MAX_RETRY_S = 60.0
_MISSES_TO_SETTLE = 5


class Reconciler:
    """Startup and periodic reconciliation (see the module docstring).

    Args:
        desk: sends, follows and holds the orders.
        journal_view: opens a read-only view of the journal.
        clock: time (intent TTLs).
        stamper: stamps published messages.
    """

    def __init__(
        self,
        *,
        desk: OrderDesk,
        journal_view: Callable[[], JournalView],
        clock: Clock,
        stamper: Stamper,
    ) -> None:
        self._desk = desk
        self._journal_view = journal_view
        self._clock = clock
        self._stamper = stamper
        self.done = False
        """True once a startup reconciliation succeeded: only then are orders placed."""
        self._failures = 0
        self.passes = 0
        self.failures = 0

    def started(self, reason: str) -> None:
        message_id, ts = self._stamper.stamp()
        self._desk.publish(
            ReconciliationStarted(message_id=message_id, ts_created_ns=ts, reason=reason)
        )

    def startup(self) -> bool:
        """Reconcile the journal's unfinished orders with the venue; False if it failed (it
        was reported, and should be retried after :meth:`retry_delay_s`)."""
        try:
            self._desk.products.load()
            known = self._load_journal()
            self._run(startup=True, known=known, source="journal")
        except (PerpsbotError, sqlite3.Error) as exc:
            self.failed(f"{type(exc).__name__}: {exc}", startup=True)
            return False
        self.done = True
        return True

    def periodic(self) -> None:
        """Reconcile in-flight orders and compare positions with the venue's."""
        try:
            self._run(startup=False, known=dict(self._desk.positions), source="risk")
        except PerpsbotError as exc:
            self.failed(f"{type(exc).__name__}: {exc}", startup=False)

    def failed(self, error: str, *, startup: bool) -> None:
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

    def retry_delay_s(self) -> float:
        """Exponential from 1 s after each consecutive failure, at most a minute."""
        return float(min(_MAX_RETRY_S, 2.0 ** max(0, self._failures - 1)))

    # -- a pass ----------------------------------------------------------------------------

    def _load_journal(self) -> dict[str, Decimal]:
        view = self._journal_view()
        try:
            for journaled in view.unfinished_intents():
                coid = journaled.client_order_id
                if coid not in self._desk.ledger:
                    fill_ids = view.fill_ids(coid)
                    self._desk.ledger.hold(self._from_journal(journaled, fill_ids))
            positions = view.latest_positions()
            return {s: changed.position.quantity for s, changed in positions.items()}
        finally:
            view.close()

    def _from_journal(self, journaled: JournaledIntent, fill_ids: frozenset[str]) -> TrackedOrder:
        intent, last = journaled.intent, journaled.order
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
        if last is None:
            return attrs.evolve(order, fill_ids=fill_ids)
        return attrs.evolve(
            order,
            status=last.status,
            venue_order_id=last.venue_order_id,
            filled_size=last.filled_size,
            average_fill_price=last.average_fill_price,
            fill_ids=fill_ids,
            # The journal commits an order's fills before its status (published in that
            # order), so what it says was filled was published as fills too.
            fills_size=last.filled_size,
        )

    def _run(self, *, startup: bool, known: Mapping[str, Decimal], source: str) -> None:
        desk = self._desk
        targets = [
            o for o in desk.ledger
            if o.in_flight or (startup and o.status is _S.PENDING_SUBMIT)
        ]  # fmt: skip
        venue = read_venue(
            desk.rest,
            specs=desk.products.specs,
            lookups=[Lookup(client_order_id=o.client_order_id, venue_order_id=o.venue_order_id,
                            symbol=o.symbol) for o in targets],
        )  # fmt: skip
        corrections: list[str] = []
        actions = plan(
            desk.ledger.snapshot(), [o.client_order_id for o in targets], venue,
            self._clock.time_ns(),
        )  # fmt: skip
        for action in actions:
            line = self._apply(action)
            if line:
                corrections.append(line)
        corrections += position_drift(known, venue.positions, source=source)
        if venue.foreign_open:
            corrections.append(
                f"{venue.foreign_open} open order(s) without our client-id prefix: left alone"
            )
        for position in venue.positions:
            desk.positions[position.symbol] = position.quantity
        for line in corrections:
            logger.warning("reconciliation: %s", line)
        message_id, ts = self._stamper.stamp()
        desk.publish(
            AccountReconciled(
                message_id=message_id, ts_created_ns=ts, equity=venue.equity,
                positions=venue.positions, liquidation_buffer_pct=venue.liquidation_buffer_pct,
                startup=startup,
            )
        )  # fmt: skip
        message_id, ts = self._stamper.stamp()
        desk.publish(
            ReconciliationCompleted(
                message_id=message_id, ts_created_ns=ts, success=True, startup=startup,
                corrections=tuple(corrections),
            )
        )  # fmt: skip
        self._failures = 0
        self.passes += 1

    def _apply(self, action: Action) -> str:
        desk = self._desk
        match action:
            case Settle(client_order_id=coid, venue=found):
                before = desk.ledger.get(coid)
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
                order = desk.ledger.get(coid)
                assert order is not None
                if order.cancel_requested:
                    desk.ledger.move(coid, _S.CANCELLED, _RECONCILIATION, "cancelled unsent")
                    return f"journaled intent {order.intent_id} was cancelled before it was sent"
                desk.submit(coid, _RECONCILIATION)
                # The venue may answer with an order that existed already (the same client
                # order id), which may have changed before the user channel followed it.
                desk.refresh_order(coid, _RECONCILIATION)
                return (
                    f"intent {order.intent_id} was not at the venue by client order id and is"
                    f" within its TTL: sent once as {coid}"
                )
            case Expire(client_order_id=coid, reason=reason):
                desk.ledger.move(coid, _S.EXPIRED, _RECONCILIATION, reason)
                return f"order {coid}: {reason}"
            case Vanished(client_order_id=coid):
                return self._vanished(coid)

    def _vanished(self, coid: str) -> str:
        """An acknowledged order the venue does not show. A venue's order lists lag behind
        its matching engine, so one miss proves nothing: the order stays in flight and is
        looked for again soon; only after :data:`_MISSES_TO_SETTLE` misses in a row is it
        settled (its fills read first)."""
        desk = self._desk
        order = desk.ledger.mark(coid, missing=desk.ledger[coid].missing + 1)
        if order.missing < _MISSES_TO_SETTLE:
            desk.reconcile_soon()
            return ""
        if order.venue_order_id is not None:
            desk.fetch_fills(coid, order.venue_order_id)
        desk.ledger.move(
            coid, _S.CANCELLED, _RECONCILIATION,
            f"the venue has not shown this order in {order.missing} reconciliations",
        )  # fmt: skip
        return f"order {coid}: the venue no longer shows it; settled as cancelled"

    def _adopt(self, found: Order) -> str:
        desk = self._desk
        spec = desk.products.get(found.product_id)
        side = Side(found.side)
        held = desk.position(found.product_id)
        shrinks = held != 0 and (held > 0) != (side is Side.BUY)
        size = found.base_size or found.filled_size
        coid = found.client_order_id
        desk.ledger.hold(
            TrackedOrder(
                intent_id=f"adopted:{coid}",
                client_order_id=coid,
                correlation_id=coid,
                symbol=found.product_id,
                side=side,
                purpose=IntentPurpose.EXIT if shrinks else IntentPurpose.ENTRY,
                order_type=OrderType.LIMIT if found.limit_price is not None else OrderType.MARKET,
                size=size,
                limit_price=found.limit_price,
                contract_size=spec.contract_size if spec is not None else Decimal(1),
                status=venue_state(found.status, Decimal(0)) or _S.ACKNOWLEDGED,
                venue_order_id=found.order_id,
            )
        )
        desk.ledger.announce(coid, _RECONCILIATION, "adopted: one of ours the journal did not hold")
        desk.apply_order(coid, found, _RECONCILIATION)
        return (
            f"adopted open order {coid} ({side.value} {format(size, 'f')} {found.product_id}),"
            " which carries our prefix but was not in the journal"
        )
