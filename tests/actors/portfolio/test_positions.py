from __future__ import annotations

from datetime import date

from perpsbot.actors.portfolio._positions import Baselines, PositionBook
from perpsbot.messages import AccountReconciled, PositionView, Side, VenuePosition
from tests.actors.trading import D, fill

PERP, ETP = "BIP-20DEC30-CDE", "ETP-20DEC30-CDE"


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


def _account(
    futures: tuple[VenuePosition, ...] = (),
    wallets: dict[str, str] | None = None,
    unsettled: frozenset[str] = frozenset(),
) -> AccountReconciled:
    spot = tuple(
        VenuePosition(symbol=s, quantity=D(q), average_entry_price=None, contract_size=D(1))
        for s, q in (wallets or {}).items()
    )
    return AccountReconciled(
        message_id="a", ts_created_ns=0, equity=None, positions=futures, spot_wallets=spot,
        unsettled=unsettled,
    )  # fmt: skip


def _view(symbol: str, quantity: int) -> PositionView:
    return PositionView(
        symbol=symbol, quantity=D(quantity), average_entry_price=None, contract_size=D(1),
        mark=None, realized_pnl=D(0), unrealized_pnl=D(0), fees=D(0), funding=D(0),
    )  # fmt: skip


def _future(symbol: str, quantity: int, entry: int) -> VenuePosition:
    return VenuePosition(
        symbol=symbol, quantity=D(quantity), average_entry_price=D(entry), contract_size=D(1)
    )


def test_a_future_is_corrected_to_the_venues_quantity_and_entry_and_says_what_changed() -> None:
    book = book_with(fill(Side.BUY, 2, 100, symbol=PERP), fill(Side.BUY, 1, 10, symbol=ETP))
    account = _account((_future(PERP, 3, 101), _future(ETP, 0, 0), _future("SOL-PERP", -4, 20)))
    corrections = book.reconcile(account)
    assert [c.position.symbol for c in corrections] == [PERP, ETP, "SOL-PERP"]
    assert f"{PERP}: quantity 2 corrected to the venue's 3" in corrections[0].description
    assert book.position(PERP).average_entry == D(101)
    assert book.position(ETP).quantity == 0
    assert book.position("SOL-PERP").quantity == D(-4)
    assert book.reconcile(account) == []


def test_a_read_older_than_the_book_corrects_nothing_for_its_unsettled_symbols() -> None:
    # An order of PERP was in flight while the venue was read: the read may miss its fill, and
    # adopting it would overwrite a newer fill (trading-core review, finding 7).
    book = book_with(fill(Side.BUY, 2, 100, symbol=PERP))
    assert book.reconcile(_account((_future(PERP, 0, 0),), unsettled=frozenset({PERP}))) == []
    assert book.position(PERP).quantity == 2


def test_a_spot_position_is_the_bots_own_fills_bounded_by_the_wallet() -> None:
    book = book_with(fill(Side.BUY, "0.5", 100), fill(Side.BUY, 1, 10, symbol="ETH-USD"))
    # The wallet holds the owner's coins too: none of them becomes the bot's position.
    assert book.reconcile(_account(wallets={"BTC-USD": "3", "ETH-USD": "1"})) == []
    (correction,) = book.reconcile(_account(wallets={"BTC-USD": "0.3", "ETH-USD": "1"}))
    assert "BTC-USD: quantity 0.5 corrected to what the wallet holds 0.3" in correction.description
    position = book.position("BTC-USD")
    assert (position.quantity, position.average_entry) == (D("0.3"), D(100))  # basis kept


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


def test_a_position_adopted_without_an_entry_takes_its_first_mark_as_its_basis() -> None:
    # Realizing nothing and never moving the day's PnL hid a 14,000 USD loss from the daily
    # loss limit (trading-core review, finding 4).
    book = PositionBook()
    book.correct(_view(PERP, 2))  # a journal of an older version held no entry
    assert book.position(PERP).average_entry is None
    book.set_mark(PERP, D(70_000))
    assert book.position(PERP).average_entry == D(70_000)
    book.set_mark(PERP, D(56_000))
    assert book.position(PERP).unrealized(D(56_000)) == D(-28_000)
    book.apply_fill(fill(Side.SELL, 2, 56_000, symbol=PERP))
    assert book.position(PERP).realized == D(-28_000)


def test_adding_to_a_position_whose_entry_is_unknown_never_averages_it_as_zero() -> None:
    book = PositionBook()
    book.correct(_view("BTC-USD", 1))
    book.apply_fill(fill(Side.BUY, 1, 70_000))
    position = book.position("BTC-USD")
    assert (position.quantity, position.average_entry) == (D(2), None)
    assert position.unrealized(D(70_000)) == 0  # not 35,000 of phantom profit
