"""The executor's work with the venue, on the executor's thread: submit, cancel, follow.

The actor decides *whether* an order goes out; the desk sends it and follows it. It owns the
venue gateway (:class:`~perpsbot.venue.gateway.VenueGateway`, the only way it reaches the
venue), the product specs and the :class:`OrderLedger`; the user channel is the
:class:`~perpsbot.actors.execution.user_feed.UserFeedActor`'s, which tells the executor what it
sees. Every
venue observation (a gateway answer, a user-channel update, a poll, a reconciliation) goes
through :meth:`OrderDesk.apply_venue`, which reads the new fills first and publishes them
before the order's new state, so a journaled status always has its fills journaled before it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors.execution._ledger import OrderLedger
from perpsbot.actors.execution._order_states import TrackedOrder, venue_state
from perpsbot.actors.execution._products import Products
from perpsbot.actors.execution._reduce_only import Refusal, refusal
from perpsbot.clock import Clock
from perpsbot.config import ExecutionConfig
from perpsbot.errors import OrderRejectedError, VenueError
from perpsbot.ids import is_our_client_order_id
from perpsbot.messages import (
    DryRunOrder,
    IntentPurpose,
    OrderStatus,
    Side,
    Stamper,
    TradingState,
    TransitionSource,
    UserFeedChanged,
    UserFillReport,
    UserOrdersReceived,
)
from perpsbot.venue.gateway import GatewaySource, VenueFill, VenueGateway, VenueOrder

logger = logging.getLogger("perpsbot.actors.executor")

_S = OrderStatus
#: How long after it is sent an order's request may still be acted on by the venue (its
#: send-by instant; never past the intent's TTL): the venue's answer deadline fits in it.
ATTEMPT_WINDOW_NS = 10 * 10**9
_REST = TransitionSource.REST


class OrderDesk:
    """Sends and follows the executor's orders (see the module docstring).

    Args:
        link: hands out the venue gateway (the process's venue link).
        clock: time.
        stamper: stamps published messages.
        settings: the ``execution`` section.
        symbols: the configured symbols.
        publish: tells the executor's subscribers.
        reconcile_soon: asks for an in-flight reconciliation shortly (the executor's timer).
        fault: the executor's crash-point hook (tests).
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
    ) -> None:
        self._link = link
        self._clock = clock
        self._stamper = stamper
        self._settings = settings
        self.symbols = symbols
        self._publish_out = publish
        self.reconcile_soon = reconcile_soon
        self._fault = fault
        self.ledger = OrderLedger(publish=self.publish, stamper=stamper, now_ns=clock.time_ns)
        self.state: TradingState | None = None
        self.state_reasons: tuple[str, ...] = ()
        self.halted_for_good = False
        """HALTED by a person (an operator, the kill switch): unsent orders are cancelled."""
        self.positions: dict[str, Decimal] = {}
        self.book_pending: str | None = None
        """The last ``AccountReconciled`` until the portfolio's ``PortfolioValued`` answers it
        (``correlation_id``): until then :attr:`positions` may be what it corrects."""
        self._gateway: VenueGateway | None = None
        self.products = Products(
            symbols=symbols,
            stamper=stamper,
            publish=self.publish,
        )
        self.feed_healthy = False
        self.stats = {
            "submitted": 0, "polls": 0, "polls_skipped_feed_healthy": 0,
            "stale_updates": 0, "venue_errors": 0, "foreign_orders": 0, "fills_streamed": 0,
        }  # fmt: skip

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        self._gateway = self._link.gateway()
        self.products.attach(self._gateway)

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()

    @property
    def gateway(self) -> VenueGateway:
        if self._gateway is None:
            raise RuntimeError("the executor's venue gateway is used before on_start opened it")
        return self._gateway

    # -- publishing ------------------------------------------------------------------------

    def publish(self, message: Any) -> None:
        self._publish_out(message)

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
        # Each attempt gets its send-by instant: a venue that does not deduplicate client ids
        # can prove the order absent only once the venue could no longer act on it.
        request = attrs.evolve(order.request, send_by_ns=self._send_by_ns(order))
        self.ledger.move(coid, _S.SUBMITTED, source, request=request)
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

    # -- following -------------------------------------------------------------------------

    def apply_venue(
        self,
        coid: str,
        *,
        status: str,
        filled: Decimal,
        average_price: Decimal | None,
        venue_order_id: str | None,
        source: TransitionSource,
        cancel_failed: bool = False,
        read_fills: bool = True,
    ) -> None:
        """What the venue says of an order: its new fills first (read now unless
        ``read_fills`` is False: they are on their way), then its new state."""
        order = self.ledger.get(coid)
        new = venue_state(status, filled)
        if order is None or new is None:
            return
        if None not in (venue_order_id, order.venue_order_id) and (
            venue_order_id != order.venue_order_id
        ):
            # Another order carrying our client order id (a venue that does not
            # deduplicate them): never ours, nor its fills.
            self.stats["foreign_orders"] += 1
            logger.warning(
                "order %s carries %s's client order id but is not %s: left alone",
                venue_order_id, coid, order.venue_order_id,
            )  # fmt: skip
            return
        reconciling = source is TransitionSource.RECONCILIATION
        if filled < order.filled_size and not reconciling:
            self.stats["stale_updates"] += 1  # an older restatement, overtaken already
            return
        if (
            order.status is _S.CANCEL_PENDING
            and new in (_S.ACKNOWLEDGED, _S.PARTIALLY_FILLED)
            and not (cancel_failed or reconciling)
        ):
            new = _S.CANCEL_PENDING  # our cancel is on its way; the venue is behind
        venue_id = venue_order_id or order.venue_order_id
        if read_fills and venue_id is not None and filled > order.fills_size:
            self.fetch_fills(coid, venue_id)
        moved = self.ledger.move(
            coid, new, source, filled_size=filled, average_fill_price=average_price,
            venue_order_id=venue_id,
        )  # fmt: skip
        if not moved:
            self.reconcile_soon()
        if not cancel_failed:  # a refused cancel is tried again on the next observation
            self._cancel_if_requested(coid)

    def fetch_fills(self, coid: str, venue_order_id: str) -> None:
        try:
            fills = self.gateway.fills([venue_order_id])
        except VenueError as exc:
            self._venue_error(f"reading the fills of {coid}", exc)  # read again next poll
            return
        self.ledger.add_fills(coid, fills)

    def refresh_order(
        self, coid: str, source: TransitionSource, *, cancel_failed: bool = False
    ) -> None:
        order = self.ledger.get(coid)
        if order is None or order.venue_order_id is None:
            return
        try:
            found = self.gateway.get_order(order.venue_order_id)
        except VenueError as exc:
            # Not visible yet (a 404 right after creation) or a transient failure: the
            # in-flight reconciliation looks again.
            self._venue_error(f"reading order {coid}", exc)
            self.reconcile_soon()
            return
        self.apply_order(coid, found, source, cancel_failed=cancel_failed)

    def apply_order(
        self,
        coid: str,
        found: VenueOrder,
        source: TransitionSource,
        *,
        cancel_failed: bool = False,
    ) -> None:
        """:meth:`apply_venue` for an order as the gateway reads it."""
        self.apply_venue(
            coid,
            status=found.status,
            filled=found.filled_size,
            average_price=found.average_price,
            venue_order_id=found.venue_order_id,
            source=source,
            cancel_failed=cancel_failed,
        )

    def user_orders(self, message: UserOrdersReceived, reconciled: bool) -> None:
        unique_ids = self.gateway.deduplicates_client_ids
        for update in message.orders:
            order = self.ledger.by_venue_id(update.venue_order_id)
            if order is None and unique_ids:
                order = self.ledger.get(update.client_order_id)
            elif order is None and update.client_order_id in self.ledger:
                # Others may carry our client order id here: only the reconciliation's lookup
                # (what we asked for) tells whether an order whose answer we lack is this one.
                self.reconcile_soon()
                continue
            if order is None:
                if reconciled and is_our_client_order_id(update.client_order_id):
                    self.reconcile_soon()  # one of ours we do not hold: adopt it
                continue
            self.apply_venue(
                order.client_order_id,
                status=update.status,
                filled=update.filled_size,
                average_price=update.average_price,
                venue_order_id=update.venue_order_id,
                source=TransitionSource.USER_CHANNEL,
                read_fills=not message.fills_follow,
            )
        by_order: dict[str, list[VenueFill]] = {}
        for fill in message.fills:
            by_order.setdefault(fill.venue_order_id, []).append(_venue_fill(fill))
        for venue_id, fills in by_order.items():
            # By venue id only: a fill of another order carrying our client order id is not
            # ours; one of an order whose answer is still on its way is read with it.
            held = self.ledger.by_venue_id(venue_id)
            if held is not None:
                self.stats["fills_streamed"] += self.ledger.add_fills(held.client_order_id, fills)

    def user_feed_changed(self, message: UserFeedChanged) -> None:
        was, self.feed_healthy = self.feed_healthy, message.healthy
        if message.healthy != was:
            log = logger.info if message.healthy else logger.warning
            log(
                "user channel %s: %s", "healthy" if message.healthy else "unhealthy", message.detail
            )
        if was and not message.healthy:
            self.poll()  # at once: updates may have been missed
        elif message.healthy and not was:
            # The subscription's snapshot restates only the open orders: an order that
            # filled or ended while nothing was subscribed is read once, here; from now on
            # the channel reports every change.
            self.poll(missed=True)

    def poll(self, *, missed: bool = False) -> None:
        """Poll in-flight orders while the user channel is unhealthy (or, ``missed``, once
        as it becomes healthy); read the fills that lag behind the venue's filled size in
        any case."""
        in_flight = [
            o for o in self.ledger.unfinished() if o.in_flight and o.venue_order_id is not None
        ]
        if self.feed_healthy and not missed:
            if in_flight:
                self.stats["polls_skipped_feed_healthy"] += 1
        elif in_flight:
            self.stats["polls"] += 1
            for order in in_flight:
                self.refresh_order(order.client_order_id, TransitionSource.POLL)
        self.catch_up_fills()

    def catch_up_fills(self) -> set[str]:
        """Read the fills that lag behind the venue's filled sizes; returns the symbols whose
        fills still lag (the venue does not list them yet, or reading them failed)."""
        for order in self.ledger.unfinished():
            if order.fills_behind and order.venue_order_id is not None:
                self.fetch_fills(order.client_order_id, order.venue_order_id)
        return {order.symbol for order in self.ledger.unfinished() if order.fills_behind}

    def _venue_error(self, doing: str, exc: VenueError) -> None:
        self.stats["venue_errors"] += 1
        logger.warning("%s failed: %s: %s", doing, type(exc).__name__, exc)


def _venue_fill(fill: UserFillReport) -> VenueFill:
    return VenueFill(
        fill_id=fill.fill_id, venue_order_id=fill.venue_order_id, side=fill.side,
        price=fill.price, size=fill.size, fee=fill.fee, liquidity=fill.liquidity,
        ts_ns=fill.ts_ns,
    )  # fmt: skip
