"""What the executor sends the venue: its orders and their cancels, on the executor's thread.

The actor decides *whether* an order goes out; the desk sends it, and follows it (what comes
back is :class:`~perpsbot.actors.execution._order_follow.OrderFollowing`'s, which the desk
builds on). It owns the venue gateway (:class:`~perpsbot.venue.gateway.VenueGateway`, the only
way it reaches the venue), the product specs, the :class:`OrderLedger`, and the executor's copy
of the trading state and the positions that decide whether an order may go out now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.execution._foreign import IssuedLabels
from perpsbot.actors.execution._ledger import KEEP_FINISHED
from perpsbot.actors.execution._order_follow import OrderFollowing
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._products import Products
from perpsbot.actors.execution._reduce_only import Refusal, refusal
from perpsbot.clock import Clock
from perpsbot.config import ExecutionConfig
from perpsbot.errors import OrderRejectedError, VenueError
from perpsbot.messages import (
    DryRunOrder,
    IntentPurpose,
    JournalSynced,
    OrderStatus,
    Side,
    Stamper,
    TradingState,
    TransitionSource,
)
from perpsbot.venue.gateway import GatewaySource

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
#: How long after it is sent an order's request may still be acted on by the venue (its
#: send-by instant; never past the intent's TTL): the venue's answer deadline fits in it.
ATTEMPT_WINDOW_NS = 10 * 10**9
_REST = TransitionSource.REST


def _submitted_unwritten(order: TrackedOrder) -> bool:
    """SUBMITTED without a venue id: its request not written yet."""
    return order.status is _S.SUBMITTED and order.venue_order_id is None


class OrderDesk(OrderFollowing):
    """Sends the executor's orders and follows them (see the module docstring).

    Args:
        link: hands out the venue gateway (the process's venue link).
        clock: time.
        stamper: stamps published messages.
        settings: the ``execution`` section.
        symbols: the configured symbols.
        publish: tells the executor's subscribers.
        reconcile_soon: asks for an in-flight reconciliation shortly (the executor's timer).
        fault: the executor's crash-point hook (tests).
        sync_journal: asks the journal to confirm it holds what was told so far
            (``SyncJournal``); returns the request's id, answered by ``JournalSynced``.
        keep_finished: how many finished orders the ledger keeps (:class:`OrderLedger`).
    """

    def __init__(
        self,
        *,
        link: GatewaySource,
        clock: Clock,
        stamper: Stamper,
        settings: ExecutionConfig,
        symbols: tuple[str, ...],
        publish: Callable[[Any], None],
        reconcile_soon: Callable[[], None],
        fault: Callable[[str], None],
        sync_journal: Callable[[], str],
        keep_finished: int = KEEP_FINISHED,
    ) -> None:
        super().__init__(
            link=link, clock=clock, stamper=stamper, publish=publish,
            reconcile_soon=reconcile_soon, keep_finished=keep_finished,
        )  # fmt: skip
        self._settings = settings
        self.symbols = symbols
        self._fault = fault
        self._sync_journal = sync_journal
        self._awaiting_journal: dict[str, str] = {}  # SyncJournal id -> the order it holds
        self._awaiting_book: list[str] = []  # journaled SUBMITTED, waiting for the portfolio
        self.state: TradingState | None = None
        self.state_reasons: tuple[str, ...] = ()
        self.halted_for_good = False
        """HALTED by a person (an operator, the kill switch): unsent orders are cancelled."""
        self.positions: dict[str, Decimal] = {}
        self.book_pending: str | None = None
        """The last ``AccountReconciled`` until the portfolio's ``PortfolioValued`` answers it
        (``correlation_id``): until then :attr:`positions` may be what it corrects."""
        self.products = Products(symbols=symbols, stamper=stamper, publish=self.publish)
        self.issued = IssuedLabels()
        """Every client order id that may have reached the venue: those the journal issued
        (at start, with the venue order ids it holds for them) and those this process wrote.
        Where client ids are not deduplicated, an order of our prefix under any other label,
        or under one of the journal's with another venue id, is a stranger's."""

    def open(self) -> None:
        super().open()
        self.products.attach(self.gateway)

    # -- positions and products ------------------------------------------------------------

    def position(self, symbol: str) -> Decimal:
        """The portfolio's position in ``symbol`` (booked fills only), as last told."""
        return self.positions.get(symbol, Decimal(0))

    def reducing_in_flight(self, symbol: str, side: Side, excluding: str = "") -> Decimal:
        """What unsettled orders on ``symbol`` and ``side`` (but ``excluding``) may still
        move the position by beyond what is booked."""
        return sum(
            (o.unsettled_size for o in self.ledger.unfinished()
             if o.symbol == symbol and o.side is side and o.client_order_id != excluding),
            Decimal(0),
        )  # fmt: skip

    def unsettled_symbols(self) -> frozenset[str]:
        """The symbols with an order that is not settled (in flight, unsent, or with fills
        not yet read or booked)."""
        return frozenset(o.symbol for o in self.ledger.unfinished())

    def refusal(self, order: TrackedOrder) -> Refusal | None:
        """Why the trading state refuses to send ``order`` now (:func:`_reduce_only.refusal`)."""
        return refusal(
            state=self.state,
            reasons=self.state_reasons,
            reconciled=True,  # sending is the reconciliation's, or comes after it
            symbol=order.symbol,
            side=order.side,
            size=order.remaining,
            purpose=order.purpose,
            position=self.position(order.symbol),
            reducing_in_flight=self.reducing_in_flight(
                order.symbol, order.side, excluding=order.client_order_id
            ),
            book_behind=self.book_pending is not None,
        )

    def refresh_products(self) -> None:
        try:
            self.products.load()
        except VenueError as exc:
            self._venue_error("reloading the product catalogue", exc)

    # -- sending ---------------------------------------------------------------------------

    def send(self, coid: str, source: TransitionSource) -> str | None:
        """Submit a journaled order if the trading state allows it now, as it allowed it when
        the order was placed: a halt or a reduce-only that came meanwhile (while the journal
        committed, or across a restart) is never bypassed. Refused, an order that a person's
        HALTED (an operator's halt, the kill switch) keeps from ever being sent is cancelled;
        any other (risk's HALTED while it reads the journal at start included) stays as it is
        and waits (:attr:`unsent`) for a state that allows it, until its TTL ends. Returns None
        once sent, else why not."""
        order = self.ledger[coid]
        if order.cancel_requested and order.status is _S.PENDING_SUBMIT:
            self.ledger.move(coid, _S.CANCELLED, source, "cancelled before it was sent")
            return "cancelled before it was sent"
        if order.cancel_requested:
            # Sent once, its answer lost: it may exist, filled even, where the venue's lists
            # do not show it yet. Never sent again, and settled only by what the venue shows.
            return "a cancel was asked for: not sent again, looked for by client order id"
        refused = self.refusal(order)
        if refused is None:
            self._submit(coid, source)
            return None
        if self.halted_for_good and order.status is _S.PENDING_SUBMIT:
            self.ledger.move(coid, _S.CANCELLED, source, f"never sent: {refused.reason}")
            return f"cancelled, never sent: {refused.reason}"
        logger.warning("order %s held back: %s", coid, refused.reason)
        return f"waits for trading to allow it ({refused.reason})"

    def unsent(self) -> bool:
        """True if a journaled order waits to be sent."""
        return any(order.unsent for order in self.ledger.unfinished())

    def _submit(self, coid: str, source: TransitionSource) -> None:
        """Send a journaled order (once per call; a resend under the same client order id is
        answered with the existing order: the gateway's contract, whatever the venue does with
        a reused id)."""
        order = self.ledger[coid]
        if order.request is None:
            self.ledger.move(
                coid, _S.EXPIRED, source, f"{order.symbol} has no product spec now: never sent"
            )
            return
        if self._settings.dry_run:
            message_id, ts = self._stamper.stamp()
            body = self.gateway.request_text(order.request)
            self.publish(
                DryRunOrder(
                    message_id=message_id, ts_created_ns=ts, correlation_id=order.correlation_id,
                    intent_id=order.intent_id, client_order_id=coid, symbol=order.symbol,
                    request=body,
                )
            )  # fmt: skip
            self.ledger.move(
                coid, _S.CANCELLED, TransitionSource.DRY_RUN, "dry run: would place, not sent"
            )
            return
        self._fault("before_submit")
        if not self.gateway.deduplicates_client_ids:
            # Sent only once the journal holds its SUBMITTED: an order a restart finds
            # journaled PENDING_SUBMIT was then never sent, and no venue order carrying its
            # client order id (anyone may reuse it here) is taken for it. Until then it is
            # unwritten (:meth:`unwritten`): not looked for at the venue.
            request = attrs.evolve(order.request, send_by_ns=None)
            never_sent = order.status is _S.PENDING_SUBMIT  # else written once already
            self.ledger.move(coid, _S.SUBMITTED, source, request=request, never_sent=never_sent)
            self._awaiting_journal[self._sync_journal()] = coid
            return
        self.ledger.move(coid, _S.SUBMITTED, source)
        self._write(coid)

    def journal_synced(self, message: JournalSynced) -> None:
        """The journal holds what was told before its ``SyncJournal``: an order that waited
        for its SUBMITTED to be journaled goes out now if it may still go out.

        Everything :meth:`send` checked is checked again: a halt, a reduce-only, a position
        that shrank or a reconciliation's corrections may have come meanwhile (they overtake
        this answer in the mailbox), or the intent's TTL may have passed. An order waits for
        the portfolio's answer to a reconciliation (:meth:`book_answered`); refused otherwise,
        it ends never sent (a missed trade, never a wrong one: the strategy asks again if it
        still wants it)."""
        coid = self._awaiting_journal.pop(message.correlation_id, None)
        self._write_or_end(coid)

    def book_answered(self) -> None:
        """The portfolio answered the last reconciliation: the orders the journal holds
        SUBMITTED that waited for it are written now, or end never sent."""
        waiting, self._awaiting_book = self._awaiting_book, []
        for coid in waiting:
            self._write_or_end(coid)

    def unwritten(self, coid: str) -> bool:
        """Whether ``coid`` is SUBMITTED but not written yet (it waits for the journal, or
        for the portfolio's answer to a reconciliation): no venue order is it yet."""
        return coid in self._awaiting_book or coid in self._awaiting_journal.values()

    def _write_or_end(self, coid: str | None) -> None:
        order = None if coid is None else self.ledger.get(coid)
        if order is None or not _submitted_unwritten(order):
            return  # an earlier incarnation's, settled by the venue, or ended past its TTL
        coid = order.client_order_id
        if self.book_pending is not None and not order.cancel_requested:
            self._awaiting_book.append(coid)
            return
        ending = self._refused_at_write(order)
        if ending is None:
            self._write(coid)
        else:
            self.ledger.move(coid, ending[0], TransitionSource.LOCAL, ending[1])

    def expire_unwritten(self) -> None:
        """An order still unwritten past its intent's TTL ends now, as it would once the
        answer it waits for came: that answer (the journal's, or the portfolio's to a
        reconciliation) may never come. A missed trade, never a wrong one."""
        now_ns = self._clock.time_ns()
        for sync_id, coid in list(self._awaiting_journal.items()):
            if self._ended_unwritten(coid, now_ns, "the journal"):
                del self._awaiting_journal[sync_id]
        book = "the portfolio's answer to a reconciliation"
        self._awaiting_book = [
            c for c in self._awaiting_book if not self._ended_unwritten(c, now_ns, book)
        ]

    def _ended_unwritten(self, coid: str, now_ns: int, awaited: str) -> bool:
        """End ``coid`` if it is unwritten past its TTL; whether it no longer waits."""
        order = self.ledger.get(coid)
        if order is None or not _submitted_unwritten(order):
            return True
        if order.valid_until_ns is None or now_ns <= order.valid_until_ns:
            return False
        ending = self._refused_at_write(order, f"waiting for {awaited}")
        assert ending is not None  # past its TTL
        self.ledger.move(coid, ending[0], TransitionSource.LOCAL, ending[1])
        return True

    def _refused_at_write(
        self, order: TrackedOrder, when: str = "once journaled"
    ) -> tuple[OrderStatus, str] | None:
        """Why an order the journal holds SUBMITTED may no longer be written: its ending
        (``when``: where its TTL passed, for the reason)."""
        unsent = "never sent" if order.never_sent else "not sent again"  # a re-send's
        if order.cancel_requested:
            again = "" if order.never_sent else " again"
            return _S.CANCELLED, f"cancelled before it was sent{again}"
        ttl_ns, now_ns = order.valid_until_ns, self._clock.time_ns()
        if ttl_ns is not None and now_ns > ttl_ns:
            late_ms = (now_ns - ttl_ns) / 1e6
            return _S.EXPIRED, f"{unsent}: past its TTL by {late_ms:.0f} ms {when}"
        refused = self.refusal(order)
        if refused is None:
            return None
        status = _S.CANCELLED if self.halted_for_good else _S.EXPIRED
        return status, f"{unsent}: {refused.reason}"

    def _write(self, coid: str) -> None:
        """Write a SUBMITTED order's request to the venue, and take its answer."""
        order = self.ledger[coid]
        assert order.request is not None
        # Each attempt gets its send-by instant: a venue that does not deduplicate client ids
        # can prove the order absent only once the venue could no longer act on it.
        request = attrs.evolve(order.request, send_by_ns=self._send_by_ns(order))
        self.ledger.mark(coid, request=request, never_sent=False)
        self.issued.add(coid)  # a label that may reach the venue from now on
        self.stats["submitted"] += 1
        try:
            venue_order_id = self.gateway.create_order(request)
        except OrderRejectedError as exc:
            self._fault("after_submit")
            self.ledger.move(coid, _S.REJECTED, _REST, str(exc))
            return
        except VenueError as exc:
            # A lost answer (OrderOutcomeUnknownError) or an ambiguous one: the order may
            # exist. Reconciliation looks it up by client order id; nothing is resent blindly.
            self._fault("after_submit")
            self.ledger.move(coid, _S.UNKNOWN, _REST, f"{type(exc).__name__}: {exc}")
            self.reconcile_soon()
            return
        self._fault("after_submit")
        self.ledger.move(coid, _S.ACKNOWLEDGED, _REST, venue_order_id=venue_order_id)
        self._cancel_if_requested(coid)

    def _send_by_ns(self, order: TrackedOrder) -> int:
        """The attempt's send-by instant: a little after now, never past the intent's TTL."""
        send_by_ns = self._clock.time_ns() + ATTEMPT_WINDOW_NS
        ttl_ns = order.valid_until_ns
        return send_by_ns if ttl_ns is None else min(send_by_ns, ttl_ns)

    def cancel_one(self, coid: str, reason: str) -> None:
        order = self.ledger.get(coid)
        if order is None:
            logger.warning("cancel of %s: no such order here (%s)", coid, reason)
            return
        self._cancel([order], reason)

    def cancel_all(
        self, reason: str, *, symbol: str | None = None, entries_only: bool = False
    ) -> None:
        """Cancel every unfinished order (of ``symbol``; only entries if ``entries_only``)."""
        self._cancel(
            [
                o for o in self.ledger.unfinished()
                if not o.status.terminal
                and (symbol is None or o.symbol == symbol)
                and (not entries_only or o.purpose is IntentPurpose.ENTRY)
            ],
            reason,
        )  # fmt: skip

    def _cancel(self, orders: Iterable[TrackedOrder], reason: str) -> None:
        now: list[TrackedOrder] = []
        for order in orders:
            if order.status.terminal or order.status is _S.CANCEL_PENDING:
                continue
            if order.status is _S.PENDING_SUBMIT or order.venue_order_id is None:
                # Not sent yet, or sent without an answer: cancelled once that settles.
                self.ledger.mark(order.client_order_id, cancel_requested=True)
                continue
            now.append(order)
        if not now:
            return
        for order in now:
            # Remembered: if the venue turns out to still hold it open, it is cancelled again.
            self.ledger.mark(order.client_order_id, cancel_requested=True)
            self.ledger.move(
                order.client_order_id, _S.CANCEL_PENDING, TransitionSource.LOCAL, reason
            )
        try:
            results = self.gateway.cancel_orders(
                [o.venue_order_id for o in now if o.venue_order_id]
            )
        except VenueError as exc:
            self._venue_error("cancelling", exc)
            self.reconcile_soon()  # finds them open (cancelled again) or closed
            return
        for result in results:
            if not result.cancelled:
                found = self.ledger.by_venue_id(result.venue_order_id)
                logger.info("cancel of %s failed: %s", result.venue_order_id, result.reason)
                if found is not None:
                    self.refresh_order(found.client_order_id, _REST, cancel_failed=True)

    def _cancel_if_requested(self, coid: str) -> None:
        order = self.ledger.get(coid)
        if order is not None and order.cancel_requested and order.status in (
            _S.ACKNOWLEDGED, _S.PARTIALLY_FILLED,
        ):  # fmt: skip
            self._cancel([order], "cancel requested before the venue acknowledged the order")
