"""A small fixed run, written through the real journal store: the fills and funding that
``test_report``'s docstring lists and computes by hand, and its marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from perpsbot.clock import FakeClock
from perpsbot.journal import JournalStore, open_for_writing
from perpsbot.messages import OrderIntent, Side
from tests.journal.events import Events

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MARKS = {
    symbol: [(T0 + timedelta(hours=h), D(p)) for h, p in enumerate(prices)]
    for symbol, prices in [
        ("BTC-USD", [100, 110, 120, 90, 100, 100]),
        ("ETH-USD", [50, 50, 50, 50, 40, 40]),
    ]
}
START = D(10_000)


def write_small_run(path: Path) -> Path:
    """Journals the run at ``path`` (a new file) and returns ``path``."""
    clock = FakeClock(wall_start_ns=int(T0.timestamp()) * 10**9)
    events = Events(clock)
    db = open_for_writing(path, synchronous="normal", busy_timeout_s=0.05)
    store = JournalStore(db)
    btc, eth = events.intent(symbol="BTC-USD"), events.intent("ETH-USD:1", symbol="ETH-USD")
    messages: list[object] = []

    def at(minutes: int) -> None:
        clock.advance(minutes * 60 - (clock.time_ns() // 10**9 - int(T0.timestamp())))

    def fill(minutes: int, intent: OrderIntent, side: Side, trade: str, fee: str) -> None:
        at(minutes)
        size, price = trade.split(" @ ")
        fill_id = f"f{len(messages)}"
        messages.append(events.fill(intent, fill_id, side=side, size=size, price=price, fee=fee))

    fill(30, btc, Side.BUY, "10 @ 100", "1")
    fill(90, btc, Side.SELL, "5 @ 110", "1")
    fill(150, btc, Side.SELL, "5 @ 120", "1")
    fill(150, eth, Side.SELL, "4 @ 50", "2")
    fill(210, btc, Side.BUY, "2 @ 90", "0.5")
    messages.append(events.funding("-1", symbol="ETH-USD"))
    fill(225, eth, Side.BUY, "10 @ 50", "2.5")
    fill(270, btc, Side.SELL, "2 @ 100", "0.5")
    store.commit([JournalStore.prepare(m) for m in messages])
    db.close()
    return path
