"""The portfolio's books take funding from the venue's figures: what the accrued funding the
venue shows on a futures position moved by between readings, across settlements and closes."""

from __future__ import annotations

from datetime import UTC, datetime

from perpsbot.actors.portfolio._positions import PositionBook
from perpsbot.messages import AccountReconciled, Side, VenuePosition
from tests.actors.trading import D, fill

PERP = "BIP-20DEC30-CDE"
SETTLES = int(datetime(2026, 3, 4, 21, tzinfo=UTC).timestamp()) * 10**9  # 16:00 EST
MINUTE = 60 * 10**9


def _read(
    book: PositionBook,
    accrued: str | None,
    *,
    at_ns: int,
    contracts: int = 10,
    unsettled: frozenset[str] = frozenset(),
) -> list[tuple[str, D, D]]:
    held = VenuePosition(
        symbol=PERP, quantity=D(contracts), average_entry_price=D(70_000) if contracts else None,
        contract_size=D("0.01"), accrued_funding=None if accrued is None else D(accrued),
    )  # fmt: skip
    account = AccountReconciled(
        message_id="a", ts_created_ns=at_ns, equity=None, positions=(held,), unsettled=unsettled
    )
    return book.book_funding(account)


def _held() -> PositionBook:
    book = PositionBook()
    book.apply_fill(fill(Side.BUY, 10, 70_000, symbol=PERP, contract_size="0.01"))
    return book


def test_the_first_reading_is_the_baseline_and_later_ones_book_what_it_moved_by() -> None:
    book = _held()
    assert _read(book, "-0.70", at_ns=SETTLES - 50 * MINUTE) == []  # counted before, if at all
    assert _read(book, "-1.40", at_ns=SETTLES - 40 * MINUTE) == [(PERP, D("-0.70"), D("-1.40"))]
    assert _read(book, "-1.40", at_ns=SETTLES - 30 * MINUTE) == []
    assert book.position(PERP).funding == D("-0.70")
    assert book.net_pnl() == D("-0.70")  # and so in equity and the day's PnL


def test_after_a_settlement_the_figure_counts_from_zero_and_what_was_settled_stays_counted() -> (
    None
):
    book = _held()
    _read(book, "0", at_ns=SETTLES - 90 * MINUTE)
    _read(book, "-1.40", at_ns=SETTLES - MINUTE)
    assert _read(book, "-1.40", at_ns=SETTLES - 1) == []  # a nanosecond before: not settled
    assert _read(book, "-0.70", at_ns=SETTLES) == [(PERP, D("-0.70"), D("-0.70"))]  # settled
    assert book.position(PERP).funding == D("-2.10")


def test_a_close_takes_the_accrued_funding_and_the_next_position_counts_from_zero() -> None:
    book = _held()
    _read(book, "0", at_ns=SETTLES - 90 * MINUTE)
    _read(book, "-1.40", at_ns=SETTLES - 80 * MINUTE)
    book.apply_fill(fill(Side.SELL, 10, 70_100, symbol=PERP, contract_size="0.01"))
    book.apply_fill(fill(Side.BUY, 5, 70_100, symbol=PERP, contract_size="0.01"))

    assert _read(book, "-0.35", at_ns=SETTLES - 70 * MINUTE, contracts=5) == [
        (PERP, D("-0.35"), D("-0.35"))
    ]
    assert book.position(PERP).funding == D("-1.75")


def test_a_flat_reading_books_nothing_and_resets_the_figure() -> None:
    book = _held()
    _read(book, "0", at_ns=SETTLES - 90 * MINUTE)
    _read(book, "-1.40", at_ns=SETTLES - 80 * MINUTE)
    assert _read(book, None, at_ns=SETTLES - 70 * MINUTE, contracts=0) == []  # closed elsewhere
    assert _read(book, "-0.70", at_ns=SETTLES - 60 * MINUTE) == [(PERP, D("-0.70"), D("-0.70"))]
    assert book.position(PERP).funding == D("-2.10")


def test_a_read_older_than_the_book_books_no_funding_for_its_unsettled_symbols() -> None:
    book = _held()
    _read(book, "0", at_ns=SETTLES - 90 * MINUTE)
    assert _read(book, "-1.40", at_ns=SETTLES - 80 * MINUTE, unsettled=frozenset({PERP})) == []
    assert _read(book, "-1.40", at_ns=SETTLES - 70 * MINUTE) == [(PERP, D("-1.40"), D("-1.40"))]
