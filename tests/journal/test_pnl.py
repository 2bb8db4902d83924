from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.clock import FakeClock
from perpsbot.journal import pnl_from
from perpsbot.messages import IntentPurpose, OrderFilled, Side
from tests.journal.events import Events

D = Decimal


def _fills(
    events: Events, *trades: tuple[Side, str, str], symbol: str = "BTC-USD"
) -> list[OrderFilled]:
    intent = events.intent(symbol=symbol)
    return [
        events.fill(intent, f"{symbol}-{n}", side=side, size=size, price=price, fee="1")
        for n, (side, size, price) in enumerate(trades)
    ]


def test_a_long_closed_higher_realizes_the_difference_less_fees(events: Events) -> None:
    fills = _fills(events, (Side.BUY, "1", "100"), (Side.BUY, "1", "200"), (Side.SELL, "2", "180"))

    line = pnl_from(fills, []).lines[0]

    assert (line.realized, line.fees, line.fills) == (D(60), D(3), 3)  # 2 x (180 - 150)
    assert line.net == D(57)


def test_a_short_covered_lower_gains_and_a_flip_opens_at_the_flip_price(events: Events) -> None:
    fills = _fills(
        events,
        (Side.SELL, "2", "100"),
        (Side.BUY, "3", "90"),  # covers 2 at +10 each, then long 1 at 90
        (Side.SELL, "1", "95"),  # +5
    )

    assert pnl_from(fills, []).total.realized == D(25)


def test_futures_pnl_is_scaled_by_the_contract_size(events: Events) -> None:
    fills = [
        attrs.evolve(f, contract_size=D("0.01"))
        for f in _fills(events, (Side.BUY, "10", "50000"), (Side.SELL, "10", "51000"))
    ]

    assert pnl_from(fills, []).total.realized == D(100)  # 10 x 0.01 BTC x 1000


def test_since_counts_only_later_fills_and_funding_but_keeps_earlier_entries(
    clock: FakeClock, events: Events
) -> None:
    opened = _fills(events, (Side.BUY, "1", "100"))
    old_funding = events.funding("-1")  # the position's funding so far
    clock.advance(3600)
    since = clock.time_ns()
    closed = _fills(events, (Side.SELL, "1", "110"))
    closed = [attrs.evolve(f, fill_id="close", purpose=IntentPurpose.EXIT) for f in closed]
    funding = events.funding("-0.5")  # moved by +0.5 since

    report = pnl_from([*opened, *closed], [old_funding, funding], since_ns=since)

    assert report.total.realized == D(10)
    assert (report.total.fees, report.total.funding, report.total.fills) == (D(1), D("0.5"), 1)


def test_totals_add_up_the_symbols_sorted(events: Events) -> None:
    btc = _fills(events, (Side.BUY, "1", "100"), (Side.SELL, "1", "101"))
    eth = _fills(events, (Side.BUY, "1", "10"), (Side.SELL, "1", "8"), symbol="ETH-USD")

    report = pnl_from([*eth, *btc], [events.funding("2", symbol="ETH-USD")])

    assert [(line.symbol, line.realized, line.funding) for line in report.lines] == [
        ("BTC-USD", D(1), D(0)),
        ("ETH-USD", D(-2), D(2)),
    ]
    assert (report.total.realized, report.total.fees, report.total.net) == (D(-1), D(4), D(-3))
