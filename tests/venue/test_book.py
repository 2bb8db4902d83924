from __future__ import annotations

import random
import sys
import tracemalloc
from decimal import Decimal

import pytest

from perpsbot.venue import BookUpdate, L2Event, OrderBook

D = Decimal


def _event(snapshot: bool, bids=(), asks=(), product_id: str = "BTC-USD") -> L2Event:  # type: ignore[no-untyped-def]
    """An event from wire strings, converted as the decoder converts them."""
    updates = [BookUpdate("bid", float(p), float(s)) for p, s in bids]
    updates += [BookUpdate("offer", float(p), float(s)) for p, s in asks]
    return L2Event(
        type="snapshot" if snapshot else "update", product_id=product_id, updates=tuple(updates)
    )


def test_book_is_not_ready_before_a_snapshot() -> None:
    book = OrderBook("BTC-USD")
    assert not book.ready
    assert book.mid() is None


def test_snapshot_gives_best_bid_ask_and_mid() -> None:
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1"), ("99", "2")], asks=[("101", "3"), ("102", "1")]))
    assert book.ready
    assert book.best_bid() == (D(100), D(1))
    assert book.best_ask() == (D(101), D(3))
    assert book.mid() == D("100.5")


def test_update_sets_absolute_sizes_and_zero_deletes_a_level() -> None:
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1"), ("99", "2")], asks=[("101", "3")]))
    book.apply(_event(False, bids=[("100", "0"), ("99", "5")], asks=[("100.5", "1")]))
    assert book.best_bid() == (D(99), D(5))
    assert book.best_ask() == (D("100.5"), D(1))


def test_a_new_snapshot_replaces_the_whole_book() -> None:
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1")], asks=[("101", "1")]))
    book.apply(_event(True, bids=[("90", "1")], asks=[("91", "1")]))
    assert book.best_bid() == (D(90), D(1))
    assert len(book) == 2


def test_deleting_every_level_empties_the_side() -> None:
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1")], asks=[("101", "1")]))
    book.apply(_event(False, bids=[("100", "0")]))
    assert book.best_bid() is None
    assert book.mid() is None


def test_invalidate_forgets_the_book_until_the_next_snapshot() -> None:
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1")], asks=[("101", "1")]))
    book.invalidate()
    assert not book.ready
    assert book.best_bid() is None


def test_an_event_for_another_product_is_refused() -> None:
    with pytest.raises(ValueError, match="product_id must be 'BTC-USD', was 'ETH-USD'"):
        OrderBook("BTC-USD").apply(_event(True, product_id="ETH-USD"))


def test_best_prices_match_a_brute_force_model_under_random_updates() -> None:
    rng = random.Random(7)
    book = OrderBook("BTC-USD")
    model: dict[str, dict[Decimal, Decimal]] = {"bid": {}, "ask": {}}
    book.apply(_event(True))
    for _ in range(3000):
        side = rng.choice(["bid", "ask"])
        base = 1000 if side == "bid" else 1100
        price = D(base + rng.randint(-60, 60)) + D(rng.randint(0, 99)) / 100  # cents, exactly
        size = D(rng.choice([0, 0, 1, 2, 3]))
        if size:
            model[side][price] = size
        else:
            model[side].pop(price, None)
        change = [(str(price), str(size))]
        book.apply(
            _event(
                False, bids=change if side == "bid" else (), asks=change if side == "ask" else ()
            )
        )
        best_bid = max(model["bid"].items(), default=None)
        best_ask = min(model["ask"].items(), default=None)
        assert book.best_bid() == best_bid
        assert book.best_ask() == best_ask
    assert book.bids(3) == sorted(model["bid"].items(), reverse=True)[:3]
    assert book.asks(3) == sorted(model["ask"].items())[:3]


def test_mid_and_levels_are_the_wire_decimals_exactly() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats; the book must not leak that.
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("0.1", "0.00000001")], asks=[("0.2", "12345.6789")]))
    assert book.mid() == D("0.15")
    assert book.best_bid() == (D("0.1"), D("0.00000001"))
    assert book.best_ask() == (D("0.2"), D("12345.6789"))
    assert book.top() == (0.1, 0.2)


def test_churn_behind_the_top_does_not_grow_the_books_memory() -> None:
    # Add a level behind the best and delete it again, forever: deleted levels that never
    # surface at the top must still be forgotten, or a long-running feed leaks.
    book = OrderBook("BTC-USD")
    book.apply(_event(True, bids=[("100", "1")], asks=[("200", "1")]))
    churn = []
    for i in range(40):
        bid, ask = str(99 - i), str(201 + i)
        churn.append(_event(False, bids=[(bid, "1")], asks=[(ask, "1")]))
        churn.append(_event(False, bids=[(bid, "0")], asks=[(ask, "0")]))

    def churn_for(rounds: int) -> int:
        """Apply ``rounds`` rounds of churn; the memory still held by the book's module."""
        for _ in range(rounds):
            for event in churn:
                book.apply(event)
        assert book.top() == (100.0, 200.0)
        held = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, book_file)])
        return sum(stat.size for stat in held.statistics("filename"))

    book_file = sys.modules[OrderBook.__module__].__file__ or ""
    tracemalloc.start()
    try:
        settled = churn_for(50)  # 4,000 levels added and deleted per side
        after = churn_for(500)  # ten times as many more
    finally:
        tracemalloc.stop()
    assert after - settled < 16_384, f"the book grew by {after - settled} bytes under churn"
