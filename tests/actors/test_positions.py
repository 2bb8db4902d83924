from __future__ import annotations

from datetime import date

from perpsbot.actors._positions import Baselines, PositionBook
from perpsbot.messages import Side, VenuePosition
from tests.actors.trading import D, fill


def book_with(*fills_: object) -> PositionBook:
    book = PositionBook()
    for f in fills_:
        book.apply_fill(f)  # type: ignore[arg-type]
    return book


def test_buys_average_the_entry_and_remember_the_opening_fill() -> None:
    book = book_with(fill(Side.BUY, 1, 100), fill(Side.BUY, 3, 104))
    position = book.position("BTC-USD")
    assert position.quantity == D(4)
    assert position.average_entry == D(103)
    assert position.entry_fill_price == D(100)


def test_a_partial_sell_realizes_pnl_and_keeps_the_entry() -> None:
    book = book_with(fill(Side.BUY, 2, 100), fill(Side.SELL, "0.5", 110))
    position = book.position("BTC-USD")
    assert (position.quantity, position.realized) == (D("1.5"), D(5))
    assert (position.average_entry, position.entry_fill_price) == (D(100), D(100))


def test_closing_fully_leaves_a_flat_position_with_its_realized_pnl_and_fees() -> None:
    book = book_with(fill(Side.BUY, 1, 100, fee="0.6"), fill(Side.SELL, 1, 98, fee="0.4"))
    position = book.position("BTC-USD")
    assert position.quantity == 0
    assert position.average_entry is None
    assert (position.realized, position.fees) == (D(-2), D(1))
    assert position.net_pnl(D(120)) == D(-3)


def test_a_sell_larger_than_the_long_flips_it_at_the_fill_price() -> None:
    book = book_with(fill(Side.BUY, 1, 100), fill(Side.SELL, 3, 90))
    position = book.position("BTC-USD")
    assert position.quantity == D(-2)
    assert position.realized == D(-10)
    assert (position.average_entry, position.entry_fill_price) == (D(90), D(90))
    assert position.unrealized(D(80)) == D(20)


def test_futures_pnl_counts_the_contract_size() -> None:
    book = book_with(
        fill(Side.SELL, 5, 50_000, symbol="BIP", contract_size="0.01"),
        fill(Side.BUY, 2, 49_000, symbol="BIP", contract_size="0.01"),
    )
    position = book.position("BIP")
    assert position.quantity == D(-3)
    assert position.realized == D(20)  # 2 contracts * 0.01 BTC * 1,000 USD
    book.set_mark("BIP", D(48_000))
    assert position.unrealized(D(48_000)) == D(60)
    assert book.exposure() == D(1_440)


def test_funding_counts_in_the_net_pnl() -> None:
    book = book_with(fill(Side.BUY, 1, 100))
    book.apply_funding("BTC-USD", D("-1.25"))
    assert book.position("BTC-USD").funding == D("-1.25")
    assert book.realized_net() == D("-1.25")


def test_views_carry_the_mark_and_the_unrealized_pnl() -> None:
    book = book_with(fill(Side.BUY, 2, 100))
    book.set_mark("BTC-USD", D(105))
    (view,) = book.views()
    assert (view.quantity, view.mark, view.unrealized_pnl, view.notional) == (
        D(2),
        D(105),
        D(10),
        D(210),
    )


def test_reconcile_corrects_to_the_venue_and_says_what_changed() -> None:
    book = book_with(fill(Side.BUY, 2, 100), fill(Side.BUY, 1, 10, symbol="ETH-USD"))
    venue = [
        VenuePosition(
            symbol="BTC-USD", quantity=D(3), average_entry_price=D(101), contract_size=D(1)
        ),
        VenuePosition(
            symbol="SOL-USD", quantity=D(-4), average_entry_price=D(20), contract_size=D(1)
        ),
    ]
    corrections = book.reconcile(venue)
    assert [c.position.symbol for c in corrections] == ["BTC-USD", "ETH-USD", "SOL-USD"]
    assert "BTC-USD: quantity 2 corrected to the venue's 3" in corrections[0].description
    assert book.position("BTC-USD").average_entry == D(101)
    assert book.position("ETH-USD").quantity == 0
    assert book.position("SOL-USD").quantity == D(-4)
    assert book.reconcile(venue) == []


def test_equity_is_the_venues_plus_the_pnl_since() -> None:
    baselines = Baselines().reconciled(D(10_000), D(5), step=D(0))
    assert baselines.equity(D(5)) == D(10_000)
    assert baselines.equity(D(-20)) == D(9_975)
    assert Baselines().equity(D(1)) is None


def test_the_days_pnl_counts_from_the_start_of_the_utc_day() -> None:
    baselines = Baselines().on_day(date(2026, 1, 1), D(40))
    assert baselines.daily_pnl(D(10)) == D(-30)
    assert baselines.on_day(date(2026, 1, 1), D(10)) is baselines
    assert baselines.on_day(date(2026, 1, 2), D(10)).daily_pnl(D(10)) == 0


def test_a_correction_counts_neither_as_equity_change_nor_as_the_days_pnl() -> None:
    baselines = Baselines().on_day(date(2026, 1, 1), D(0))
    baselines = baselines.reconciled(D(1_000), D(-50), step=D(-50))
    assert baselines.daily_pnl(D(-50)) == 0
    assert baselines.equity(D(-50)) == D(1_000)
    without_equity = baselines.reconciled(None, D(-80), step=D(-30))
    assert without_equity.equity(D(-80)) == D(1_000)
    assert without_equity.daily_pnl(D(-80)) == 0


def test_a_previous_process_days_pnl_carries_over() -> None:
    baselines = Baselines().on_day(date(2026, 1, 1), D(0)).carried(D(-60))
    assert baselines.daily_pnl(D(-10)) == D(-70)


def test_valuing_an_adopted_position_is_no_pnl_of_the_day() -> None:
    baselines = Baselines().on_day(date(2026, 1, 1), D(0)).reconciled(D(500), D(0), step=D(0))
    baselines = baselines.shifted(D(-60))  # its first mark: 60 USD under the entry
    assert (baselines.daily_pnl(D(-60)), baselines.equity(D(-60))) == (D(0), D(500))
    assert (baselines.daily_pnl(D(-70)), baselines.equity(D(-70))) == (D(-10), D(490))


def test_reducing_a_position_adopted_without_an_entry_price_realizes_nothing() -> None:
    book = PositionBook()
    spot = VenuePosition(
        symbol="BTC-USD", quantity=D("0.02"), average_entry_price=None, contract_size=D(1)
    )
    book.reconcile([spot])  # spot: the wallet tells the quantity, never the entry
    book.apply_fill(fill(Side.SELL, "0.01", 70_000, fee="0.5"))
    position = book.position("BTC-USD")
    assert (position.quantity, position.realized, position.fees) == (D("0.01"), 0, D("0.5"))
    book.apply_fill(fill(Side.SELL, "0.03", 69_000))  # flips: the short's entry is known
    assert book.position("BTC-USD").quantity == D("-0.02")
    assert book.position("BTC-USD").average_entry == D(69_000)
