"""The portfolio actor: the one owner of positions, PnL and equity, on a journal that answers
when the test says so (a recorder stands in for it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from perpsbot.actors import PortfolioActor
from perpsbot.clock import FakeClock
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    AccountReconciled,
    BookRead,
    OrderFilled,
    PortfolioValued,
    PositionChanged,
    ReadBook,
    Side,
    VenuePosition,
)
from perpsbot.runtime import ActorSystem, ChildSpec, SupervisorSpec, Wiring
from perpsbot.runtime.testing import Probe, wait_drained
from tests.actors.conftest import Subscriber
from tests.actors.trading import D, account, all_of_type, fill, of_type, sample, sampled

PERP = "BIP-20DEC30-CDE"


@attrs.define
class Book:
    system: ActorSystem
    journal: Probe = attrs.field(factory=Probe)
    told: Probe = attrs.field(factory=Probe)

    @property
    def portfolio(self) -> Any:
        return self.system.address("bot/portfolio")

    def start(self) -> None:
        def portfolio(ctx: Any) -> PortfolioActor:
            return PortfolioActor(context=ctx, journal=ctx.system.address("bot/journal"))

        children = [
            ChildSpec(name="journal", factory=lambda c: Subscriber(context=c, probe=self.journal)),
            ChildSpec(name="told", factory=lambda c: Subscriber(context=c, probe=self.told)),
            ChildSpec(name="portfolio", factory=portfolio),
        ]
        # A unit view: ``told`` hears everything the portfolio publishes (the bot's WIRING
        # splits it among risk, the strategy, the executor, the journal and the reporter).
        told = {kind: ("told",) for kind in (OrderFilled, PositionChanged, PortfolioValued)}
        wiring = Wiring.of({"portfolio": told})
        self.system.start(SupervisorSpec(name="bot", children=children, wiring=wiring))

    def answer(self, *events: Any) -> None:
        """The journal answers the portfolio's ReadBook with ``events``."""
        request = of_type(self.journal, ReadBook)
        self.portfolio.tell(
            BookRead(
                message_id="read", ts_created_ns=0, correlation_id=request.message_id,
                events=events,
            )
        )  # fmt: skip

    def drained(self) -> None:
        """Everything told so far is handled, and what it published recorded."""
        wait_drained(self.portfolio)
        wait_drained(self.system.address("bot/told"))

    def valued(self, cycle: int | None = None) -> PortfolioValued:
        self.drained()
        values = all_of_type(self.told, PortfolioValued)
        return [v for v in values if cycle is None or v.cycle == cycle][-1]


@pytest.fixture
def book(system: ActorSystem) -> Book:
    return Book(system)


def test_nothing_is_booked_or_told_before_the_journal_answered_then_in_the_order_it_came(
    book: Book,
) -> None:
    book.start()
    book.portfolio.tell(fill(Side.BUY, 2, 100, fill_id="after"))
    book.drained()
    assert book.told.events == []
    book.answer(fill(Side.BUY, 1, 90, fill_id="before"))
    valued = book.valued()
    (position,) = valued.positions
    assert (position.quantity, position.average_entry_price) == (
        D(3),
        D("96.66666666666666666666666667"),
    )


def test_a_fill_told_twice_is_booked_once_and_the_change_names_it(book: Book) -> None:
    book.start()
    book.answer()
    twice = fill(Side.BUY, 1, 100, fill_id="f-1", intent_id="entry")
    book.portfolio.tell(twice)
    book.portfolio.tell(twice)
    book.drained()
    changes = [c for c in all_of_type(book.told, PositionChanged) if c.booked]
    assert [(b.fill_id, b.intent_id, b.size) for c in changes for b in c.booked] == [
        ("f-1", "entry", D(1))
    ]
    assert book.system.state("bot/portfolio").fills_booked == 1


def test_the_day_counts_from_the_book_as_read_whatever_marks_came_before(
    system: ActorSystem,
) -> None:
    # A mark sampled while the journal answered started the day on the empty book: the
    # replayed realized loss then counted as the day's and could trip the daily loss limit.
    clock = FakeClock(wall_start_ns=int(datetime(2026, 12, 7, tzinfo=UTC).timestamp()) * 10**9)
    book = Book(ActorSystem("day", clock=clock, ids=SequentialIds("d"), watchdog_interval_s=None))
    try:
        book.start()
        book.portfolio.tell(sampled(1, sample([95])))
        book.answer(fill(Side.BUY, 1, 100), fill(Side.SELL, 1, 90))  # -10, another day's
        valued = book.valued()
        assert valued.realized_pnl == D(-10)
        assert valued.daily_pnl == 0
    finally:
        book.system.shutdown()


def test_a_correction_skips_what_was_unsettled_and_a_spot_wallet_only_bounds_the_book(
    book: Book,
) -> None:
    book.start()
    book.answer(fill(Side.BUY, "0.5", 100), fill(Side.BUY, 2, 70_000, symbol=PERP))
    wallet = VenuePosition(symbol="BTC-USD", quantity=D(3), average_entry_price=None,
                           contract_size=D(1))  # fmt: skip
    venue = VenuePosition(symbol=PERP, quantity=D(0), average_entry_price=None,
                          contract_size=D(1))  # fmt: skip
    unsettled: AccountReconciled = attrs.evolve(
        account(1_000, venue), spot_wallets=(wallet,), unsettled=frozenset({PERP})
    )
    book.portfolio.tell(unsettled)
    assert {v.symbol: v.quantity for v in book.valued().positions} == {
        "BTC-USD": D("0.5"),  # the wallet's other 2.5 are the owner's
        PERP: D(2),  # an order of it was in flight: the read may be older than the book
    }
    book.portfolio.tell(attrs.evolve(unsettled, unsettled=frozenset()))
    valued = book.valued()
    assert {v.symbol: v.quantity for v in valued.positions}[PERP] == 0
    assert valued.correlation_id is not None
    (correction,) = [c for c in all_of_type(book.told, PositionChanged) if c.is_correction]
    assert f"{PERP}: quantity 2 corrected to the venue's 0" in correction.cause


def _perp(quantity: int) -> VenuePosition:
    return VenuePosition(
        symbol=PERP, quantity=D(quantity), average_entry_price=D(100), contract_size=D("0.01")
    )


def _swept(*fills: OrderFilled, unsettled: frozenset[str] = frozenset()) -> AccountReconciled:
    return attrs.evolve(account(10_000, _perp(2)), fills=fills, unsettled=unsettled)


def test_a_swept_fill_a_correction_had_adopted_is_booked_and_the_correction_reversed_at_once(
    book: Book,
) -> None:
    # The venue's 2 contracts came in as a correction (the order was settled before its fill
    # showed); the fill, found later by the sweep, is booked in the same step that corrects
    # the position back to the venue's: never 4, not even for one message.
    book.start()
    book.answer()
    book.portfolio.tell(account(10_000, _perp(2)))
    late = fill(Side.BUY, 2, 100, symbol=PERP, contract_size="0.01", fee="1", fill_id="late")
    book.portfolio.tell(_swept(late))
    book.drained()
    told = [e for e in book.told.events if isinstance(e, OrderFilled | PositionChanged)]
    assert [p.position.quantity for p in told if isinstance(p, PositionChanged)] == [D(2), D(2)]
    adopted, swept, superseded = told
    assert isinstance(adopted, PositionChanged)
    assert adopted.is_correction
    assert swept == late  # told the journal before the position it is part of
    assert isinstance(superseded, PositionChanged)
    assert [b.fill_id for b in superseded.booked] == ["late"]
    assert superseded.position.fees == D(1)  # the fill's own facts are in the book now
    assert book.system.state("bot/portfolio").fills_booked == 1


def test_a_swept_fill_booked_before_or_on_an_unsettled_symbol_is_not_booked_now(
    book: Book,
) -> None:
    book.start()
    booked = fill(Side.BUY, 2, 100, symbol=PERP, contract_size="0.01", fill_id="booked")
    book.answer(booked)
    book.portfolio.tell(_swept(booked))  # told again: booked once
    waiting = fill(Side.BUY, 1, 100, symbol=PERP, contract_size="0.01", fill_id="waiting")
    book.portfolio.tell(_swept(waiting, unsettled=frozenset({PERP})))  # the next sweep's
    book.drained()
    assert all_of_type(book.told, OrderFilled) == []
    assert book.valued().positions[0].quantity == D(2)
    book.portfolio.tell(attrs.evolve(_swept(waiting), positions=(_perp(3),)))
    book.drained()
    assert [f.fill_id for f in all_of_type(book.told, OrderFilled)] == ["waiting"]
    assert book.valued().positions[0].quantity == D(3)
