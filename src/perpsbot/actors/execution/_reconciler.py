"""When the executor reconciles: at startup from the journal, then periodically.

The startup asks the journal for its unfinished orders (``ReadOrders``), holds each again
(:func:`~perpsbot.actors.execution._taken_in.restored_order`) and runs a pass
(:class:`~perpsbot.actors.execution._reconcile_pass.ReconcilePass`); only once one succeeded
are orders placed. A failed startup is retried with a growing delay; the periodic pass runs
on the executor's ``Reconcile`` timer, or shortly after anything asks for one
(:meth:`Reconciler.soon`).
"""

from __future__ import annotations

import logging

from perpsbot.actors.execution._order_desk import OrderDesk
from perpsbot.actors.execution._reconcile_pass import ReconcilePass
from perpsbot.actors.execution._sweep import FillSweep
from perpsbot.actors.execution._taken_in import restored_order
from perpsbot.clock import Clock
from perpsbot.errors import PerpsbotError
from perpsbot.messages import (
    OrdersRead,
    ReadOrders,
    Reconcile,
    ReconciliationCompleted,
    ReconciliationStarted,
    Stamper,
    SyncTimedOut,
)
from perpsbot.runtime import ActorAddress, ActorTimers

logger = logging.getLogger("perpsbot.actors.executor")

_MAX_RETRY_S = 60.0
#: How long the journal may take to answer ReadOrders before the startup attempt fails.
_SYNC_TIMEOUT_S = 10.0


class Reconciler:
    """Startup and periodic reconciliation, and when they run (see the module docstring).

    The journal answers ``ReadOrders`` with ``OrdersRead`` after a commit; the retries and the
    periodic passes run on the executor's ``Reconcile`` timer.

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
        self._pass = ReconcilePass(desk=desk, clock=clock, stamper=stamper)

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
            ReadOrders(
                message_id=message_id,
                ts_created_ns=ts,
                reply_to=self._reply_to,
                fills_since_ns=self._pass.sweep.since_ns(),
            )
        )
        self._timers.once(_SYNC_TIMEOUT_S, SyncTimedOut(sync_id=message_id))

    def orders_read(self, message: OrdersRead) -> None:
        if message.correlation_id != self._pending_sync:
            return  # the answer to an attempt that timed out already
        self._pending_sync = None
        if message.error:
            self._failed(f"the journal could not be read: {message.error}", startup=True)
            self._retry_startup()
        elif not self._startup(message):
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

    def _startup(self, read: OrdersRead) -> bool:
        """Reconcile the journal's unfinished orders with the venue; False if it failed (it
        was reported, and should be retried after :meth:`retry_delay_s`). The labels the
        journal issued and the fills it holds are taken in first: only an issued label is
        ours where labels are not deduplicated, and a fill the journal holds is booked."""
        self._desk.issued.take_in(read.issued, read.issued_venue_ids)
        self._pass.sweep.booked_already(read.fill_ids)
        try:
            self._desk.products.load()
            ledger, products = self._desk.ledger, self._desk.products
            for order in read.orders:
                if order.client_order_id not in ledger:
                    ledger.hold(restored_order(order, products.get(order.intent.symbol)))
            self._run(startup=True)
        except PerpsbotError as exc:
            self._failed(f"{type(exc).__name__}: {exc}", startup=True)
            return False
        self.done = True
        return True

    def _run(self, *, startup: bool) -> None:
        self._pass.run(startup=startup)
        self._failures = 0
        self.passes += 1

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

    @property
    def sweep(self) -> FillSweep:
        """The passes' sweep of the venue's fills (its counters are shown)."""
        return self._pass.sweep

    def _retry_delay_s(self) -> float:
        """Exponential from 1 s after each consecutive failure, at most a minute."""
        return float(min(_MAX_RETRY_S, 2.0 ** max(0, self._failures - 1)))
