"""PortfolioActor: the one owner of positions, PnL and equity.

It books every fill the executor publishes (``OrderFilled``, once per fill id), the venue's
reconciliations (``AccountReconciled``) and the funding they show accrued on futures
positions (``actors/_funding``), values the book at each sampling cycle's marks, and
publishes ``PositionChanged`` (listing the fills it booked) and ``PortfolioValued``.
Everyone else holds a read-only copy from those events: risk checks orders against it, the
strategy manages its stops, the executor settles an order once its fills are booked.

A reconciliation is booked in one step: first the fills its sweep carries that were never
booked (``AccountReconciled.fills``: fills of ours no order path published, e.g. of an order
settled before the venue showed them), then the corrections to the venue's positions. A
correction is an inferred fill; a real one found later supersedes it in the same step, so a
position never shows a fill twice. The portfolio tells the journal each swept fill it booked
(``OrderFilled``) before the positions it is part of: at a cold start they replay in order.

At a cold start it rebuilds the book from the journal (``ReadBook``): every fill, every
correction and every funding booking, in journaled order, so cost basis and funding survive
any restart, a crash included. Until then it books nothing and publishes nothing (what
arrives meanwhile waits, in order). The book survives the actor's own restarts (warm
restart).

``PositionChanged`` goes to the executor last: whoever the executor then tells that an order
settled has had its position change told first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from perpsbot.actors.portfolio._inspection import PortfolioState
from perpsbot.actors.portfolio._positions import Baselines, PositionBook
from perpsbot.actors.risk._book import RecentFills
from perpsbot.messages import (
    FUNDING_CAUSE,
    RECONCILED_CAUSE,
    SWEPT_CAUSE,
    AccountReconciled,
    BookedFill,
    BookRead,
    MarksSampled,
    OrderFilled,
    PortfolioValued,
    PositionChanged,
    ReadBook,
    Stamper,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    BaseActor,
)

__all__ = ["PortfolioActor", "replay"]

logger = logging.getLogger("perpsbot.actors.portfolio")

#: How long to wait before asking the journal again after it could not be read.
_RETRY_READ_S = 1.0


def _utc_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date()


def _booked(fill: OrderFilled) -> BookedFill:
    return BookedFill(
        fill_id=fill.fill_id,
        intent_id=fill.intent_id,
        client_order_id=fill.client_order_id,
        size=fill.size,
    )


def replay(events: Iterable[OrderFilled | PositionChanged]) -> tuple[PositionBook, RecentFills]:
    """The book the journal's fills, corrections and funding add up to, and the fill ids it
    booked."""
    book, fills = PositionBook(), RecentFills()
    for event in events:
        if isinstance(event, OrderFilled):
            if fills.first_time(event.fill_id, event.ts_event_ns):
                book.apply_fill(event)
        elif event.is_correction:
            book.correct(event.position)
        elif event.is_funding:
            book.restore_funding(event.position)
    return book, fills


class PortfolioActor(BaseActor):
    """Books fills and corrections; values the book (see the module docstring).

    Args:
        context: from the supervisor.
        journal: asked for the book at a cold start (``ReadBook``); None starts empty.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        journal: ActorAddress | None = None,
    ) -> None:
        super().__init__(context=context)
        self._journal = journal
        self._stamper = Stamper(context.clock, context.ids)
        self._book = PositionBook()
        self._baselines = Baselines()
        self._fills = RecentFills()
        self._ready = journal is None
        self._waiting: list[Any] = []  # what arrived before the book was read
        self._reading: str | None = None
        self._booked = 0
        self._cycle: int | None = None  # the last sampling cycle, valued once the book is read

    # -- lifecycle and state ---------------------------------------------------------------

    def on_start(self) -> None:
        if self._ready:  # no journal, or the predecessor read it (warm restart)
            self._publish_all("started without a journal")
        else:
            self._read_book()

    def snapshot_state(self) -> dict[str, Any]:
        return {
            "book": self._book.snapshot(),
            "baselines": self._baselines,
            "fills": self._fills.snapshot(),
            "ready": self._ready,
            "waiting": list(self._waiting),
            "booked": self._booked,
        }

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._book.restore(snapshot["book"])
        self._baselines = snapshot["baselines"]
        self._fills.restore(snapshot["fills"])
        self._ready = snapshot["ready"]
        self._waiting = list(snapshot["waiting"])
        self._booked = snapshot["booked"]

    def inspect_state(self) -> PortfolioState:
        views = self._book.views()
        return PortfolioState(
            ready=self._ready,
            equity=self._equity(),
            daily_pnl=self._daily_pnl(),
            exposure=self._book.exposure(),
            positions={v.symbol: v.quantity for v in views},
            average_entry={v.symbol: v.average_entry_price for v in views},
            fills_booked=self._booked,
            waiting=len(self._waiting),
        )

    def on_receive(self, message: Any) -> None:
        match message:
            case OrderFilled() | AccountReconciled() if not self._ready:
                self._waiting.append(message)
            case OrderFilled():
                self._on_fill(message)
            case AccountReconciled():
                self._on_account(message)
            case MarksSampled():
                self._on_marks_sampled(message)
            case BookRead():
                self._on_book_read(message)
            case ReadBook():
                self._read_book()  # the retry timer
            case _:
                self.unhandled(message)

    # -- reading the book back -------------------------------------------------------------

    def _read_book(self) -> None:
        assert self._journal is not None
        message_id, ts = self._stamper.stamp()
        self._reading = message_id
        self._journal.tell(ReadBook(message_id=message_id, ts_created_ns=ts, reply_to=self.address))

    def _on_book_read(self, message: BookRead) -> None:
        if self._ready or message.correlation_id != self._reading:
            return
        if message.error:
            logger.error("the journal could not be read (%s); asking again", message.error)
            message_id, ts = self._stamper.stamp()
            retry = ReadBook(message_id=message_id, ts_created_ns=ts, reply_to=self.address)
            self.timers.once(_RETRY_READ_S, retry)
            return
        book, self._fills = replay(message.events)
        for symbol, mark in self._book.marks().items():  # sampled while the journal answered
            book.set_mark(symbol, mark)
        self._book = book
        self._booked = sum(1 for event in message.events if isinstance(event, OrderFilled))
        # The day counts from the book as read (what it made before is no PnL of today's,
        # whatever marks came meanwhile), plus what a previous process counted today.
        today = self.clock.now().date()
        self._baselines = Baselines().on_day(today, self._book.net_pnl())
        snapshot = message.last_snapshot
        if snapshot is not None and _utc_date(snapshot.ts_created_ns) == today:
            self._baselines = self._baselines.carried(snapshot.daily_pnl)
            logger.info("the day's PnL continues from %s USD", snapshot.daily_pnl)
        self._ready = True
        held = ", ".join(f"{p.symbol} {p.quantity}" for p in self._book.positions() if p.quantity)
        logger.info("book read from the journal: %s", held or "flat")
        waiting, self._waiting = self._waiting, []
        for queued in waiting:  # in the order they came, after what the journal held
            self.on_receive(queued)
        self._publish_all("read from the journal")

    # -- booking ---------------------------------------------------------------------------

    def _on_fill(self, fill: OrderFilled) -> None:
        if not self._fills.first_time(fill.fill_id, fill.ts_event_ns):
            logger.info("fill %s was booked before; not booked twice", fill.fill_id)
            return
        self._roll_day()
        self._book.apply_fill(fill)
        self._booked += 1
        self._publish_position(
            fill.symbol,
            correlation_id=fill.message_id,
            cause=f"fill {fill.fill_id}: {fill.side} {fill.size} @ {fill.price}",
            booked=(_booked(fill),),
        )
        self._publish_value(None)

    def _on_account(self, message: AccountReconciled) -> None:
        swept = self._book_swept(message)  # before the corrections, in this same step
        before = self._book.net_pnl()
        corrections = self._book.reconcile(message)
        corrected = self._book.net_pnl()
        funded = self._book.book_funding(message)  # the day's PnL: no step of the baselines'
        self._baselines = self._baselines.reconciled(
            message.equity, self._book.net_pnl(), step=corrected - before
        )
        for fill in swept:  # journaled before the positions they are part of
            self.publish(fill)
        booked = {
            symbol: tuple(_booked(f) for f in swept if f.symbol == symbol)
            for symbol in {f.symbol for f in swept}
        }
        for correction in corrections:
            symbol = correction.position.symbol
            logger.warning("reconciled to the venue: %s", correction.description)
            self._publish_position(
                symbol,
                correlation_id=message.message_id,
                cause=f"{RECONCILED_CAUSE}: {correction.description}",
                booked=booked.pop(symbol, ()),
            )
        for symbol, fills in sorted(booked.items()):  # booked, and no correction needed
            self._publish_position(
                symbol,
                correlation_id=message.message_id,
                cause=f"{SWEPT_CAUSE}: " + ", ".join(f.fill_id for f in fills),
                booked=fills,
            )
        for symbol, amount, accrued in funded:
            cause = (
                f"{FUNDING_CAUSE} {amount:+f} USD on {symbol}: the venue's accrued funding is"
                f" {accrued:f} USD"
            )
            logger.info("%s (%s USD so far)", cause, self._book.position(symbol).funding)
            self._publish_position(symbol, correlation_id=message.message_id, cause=cause)
        self._publish_value(None, correlation_id=message.message_id)

    def _book_swept(self, message: AccountReconciled) -> list[OrderFilled]:
        """Book the reconciliation's sweep: every fill it carries that was not booked yet,
        except on a symbol the read may be older than the book for (the next sweep carries it
        again). Publishes nothing: the corrections that follow in the same step see the
        position with these fills, so one that had adopted a fill is reversed at once."""
        booked: list[OrderFilled] = []
        for fill in message.fills:
            if fill.symbol in message.unsettled or fill.fill_id in self._fills:
                continue
            if not self._fills.remembers(fill.ts_event_ns):
                logger.warning(
                    "fill %s (%s) is older than the fills remembered as booked: not booked"
                    " (the venue's position is adopted as it is)", fill.fill_id,
                    fill.client_order_id,
                )  # fmt: skip
                continue
            self._fills.first_time(fill.fill_id, fill.ts_event_ns)
            self._roll_day()
            self._book.apply_fill(fill)
            self._booked += 1
            logger.warning(
                "fill %s of %s found by reconciliation's sweep: %s %s %s @ %s; booked",
                fill.fill_id, fill.client_order_id, fill.side, fill.size, fill.symbol, fill.price,
            )  # fmt: skip
            booked.append(fill)
        return booked

    def _on_marks_sampled(self, message: MarksSampled) -> None:
        for sample in message.samples:
            if sample.mark is None:
                continue
            first = self._book.mark(sample.symbol) is None
            before = self._book.net_pnl()
            self._book.set_mark(sample.symbol, sample.mark)
            if first:  # valuing a position for the first time is no PnL of the day's
                self._baselines = self._baselines.shifted(self._book.net_pnl() - before)
        self._roll_day()
        self._cycle = message.cycle
        if self._ready:
            self._publish_value(message.cycle)

    def _roll_day(self) -> None:
        today = self.clock.now().date()
        if self._baselines.day != today:
            logger.info("UTC day %s: the day's PnL counts from here", today)
        self._baselines = self._baselines.on_day(today, self._book.net_pnl())

    # -- publishing ------------------------------------------------------------------------

    def _equity(self) -> Decimal | None:
        return self._baselines.equity(self._book.net_pnl())

    def _daily_pnl(self) -> Decimal:
        return self._baselines.daily_pnl(self._book.net_pnl())

    def _publish_all(self, cause: str) -> None:
        for position in self._book.positions():
            self._publish_position(position.symbol, correlation_id=None, cause=cause)
        self._publish_value(self._cycle)

    def _publish_position(
        self,
        symbol: str,
        *,
        correlation_id: str | None,
        cause: str,
        booked: tuple[BookedFill, ...] = (),
    ) -> None:
        position = self._book.position(symbol)
        message_id, ts = self._stamper.stamp()
        self.publish(
            PositionChanged(
                message_id=message_id,
                ts_created_ns=ts,
                correlation_id=correlation_id,
                position=position.view(self._book.mark(symbol)),
                cause=cause,
                entry_fill_price=position.entry_fill_price,
                booked=booked,
            )
        )

    def _publish_value(self, cycle: int | None, *, correlation_id: str | None = None) -> None:
        message_id, ts = self._stamper.stamp()
        self.publish(
            PortfolioValued(
                message_id=message_id,
                ts_created_ns=ts,
                cycle=cycle,
                equity=self._equity(),
                realized_pnl=self._book.realized_net(),
                unrealized_pnl=self._book.unrealized(),
                daily_pnl=self._daily_pnl(),
                exposure=self._book.exposure(),
                positions=self._book.views(),
                correlation_id=correlation_id,
            )
        )
