"""The chaos run's invariants find each kind of violation in a venue history written by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.venue.records import FillRecord, OrderRecord
from tests.bot.chaos_checks import JournalFacts, VenueHistory, check

D = Decimal
SPOT = "BTC-USD"


def order(n: int, side: str, size: str, *, coid: str = "", at: int = 0) -> OrderRecord:
    return OrderRecord(
        order_id=f"o{n}", client_order_id=coid or f"pb-{n}", product_id=SPOT, side=side,
        status="FILLED", order_type="MARKET", time_in_force="IMMEDIATE_OR_CANCEL",
        configuration="market_market_ioc", base_size=D(size), quote_size=None,
        limit_price=None, post_only=False, filled_size=D(size), average_filled_price=D(100),
        total_fees=D(0), number_of_fills=1, ts_created_ns=at or n * 10, leverage=None,
        margin_type="", reject_reason="",
    )  # fmt: skip


def fill_of(placed: OrderRecord) -> FillRecord:
    return FillRecord(
        entry_id=f"f-{placed.order_id}", trade_id=f"t-{placed.order_id}",
        order_id=placed.order_id, product_id=placed.product_id, side=placed.side,
        price=D(100), size=placed.filled_size, commission=D(0), liquidity_indicator="TAKER",
        ts_trade_ns=placed.ts_created_ns,
    )  # fmt: skip


def history(*orders: OrderRecord) -> VenueHistory:
    return VenueHistory(orders=orders, fills=tuple(fill_of(o) for o in orders), futures={})


def journal_of(venue: VenueHistory, **changes: Any) -> JournalFacts:
    """The journal that agrees with ``venue``, but for ``changes``."""
    agreeing = JournalFacts(
        client_order_ids=frozenset(o.client_order_id for o in venue.orders),
        fill_ids=frozenset(f.entry_id for f in venue.fills),
        positions=venue.positions(),
    )
    return attrs.evolve(agreeing, **changes)


def violations(venue: VenueHistory, journal: JournalFacts) -> list[str]:
    return [v.invariant for v in check(venue, journal).violations]


def test_entries_and_exits_in_turn_that_the_journal_holds_are_no_violation() -> None:
    venue = history(order(1, "BUY", "1"), order(2, "SELL", "1"), order(3, "BUY", "2"))
    figures = check(venue, journal_of(venue))
    assert figures.violations == ()
    assert (figures.orders, figures.entries, figures.exits, figures.fills) == (3, 2, 1, 3)


def test_an_entry_while_the_venue_holds_a_position_is_a_violation() -> None:
    venue = history(order(1, "BUY", "1"), order(2, "BUY", "1"))
    assert violations(venue, journal_of(venue)) == ["entries while the venue held a position"]


def test_an_exit_larger_than_the_position_is_a_violation() -> None:
    venue = history(order(1, "BUY", "1"), order(2, "SELL", "1.5"))
    assert violations(venue, journal_of(venue)) == ["exits past the position"]


def test_a_client_order_id_placed_twice_is_a_duplicate() -> None:
    venue = history(order(1, "BUY", "1", coid="pb-a"), order(2, "SELL", "1", coid="pb-a"))
    assert violations(venue, journal_of(venue)) == ["duplicate orders"]


def test_an_order_or_a_fill_the_journal_lacks_and_a_position_it_disagrees_on_are_violations() -> (
    None
):
    venue = history(order(1, "BUY", "1"))
    assert violations(venue, journal_of(venue, client_order_ids=frozenset())) == [
        "orders the journal lacks"
    ]
    assert violations(venue, journal_of(venue, fill_ids=frozenset())) == ["lost fills"]
    assert violations(venue, journal_of(venue, positions={SPOT: D(0)})) == [
        "journal positions differ from the venue"
    ]
