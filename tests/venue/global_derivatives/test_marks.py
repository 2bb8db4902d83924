"""Marks from the streams socket's ``book.*`` channels against the simulated gateway: each
instrument's mid, kept from its snapshot and changes; a gap in the changes drops the book
and subscribes again for a new snapshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from perpsbot.clock import SystemClock
from perpsbot.messages import MarkSource, PendingMark
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.global_derivatives import GlobalDerivativesClient, RpcHttp
from perpsbot.venue.global_derivatives.marks import GlobalMarkFeed
from perpsbot.venue.ratelimit import VenueRateLimiter
from tests.venue.global_derivatives.conftest import BTC


class Offered:
    """The marks offered, in order."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, PendingMark]] = []
        self._lock = threading.Lock()

    def __call__(self, symbol: str, mark: PendingMark, now_ns: int) -> None:
        with self._lock:
            self.marks.append((symbol, mark))

    def latest(self) -> PendingMark | None:
        with self._lock:
            return self.marks[-1][1] if self.marks else None

    def count(self) -> int:
        with self._lock:
            return len(self.marks)


@pytest.fixture
def offered() -> Offered:
    return Offered()


@pytest.fixture
def feed(
    gateway: SimGlobalGateway, budget: VenueRateLimiter, offered: Offered
) -> Iterator[GlobalMarkFeed]:
    started = GlobalMarkFeed(
        url=gateway.streams_ws_url, limiter=budget, clock=SystemClock(),
        real_clock=SystemClock(), offer=offered, symbols=(BTC,), timeout_s=5.0,
    ).start()  # fmt: skip
    assert started.wait_ready(5.0)
    yield started
    started.stop()


def _mid(http: RpcHttp) -> Decimal:
    ticker = GlobalDerivativesClient(http=http).ticker(BTC)
    return (ticker.best_bid_price + ticker.best_ask_price) / 2


def test_the_books_mid_is_offered_as_a_streamed_mark_as_it_changes(
    feed: GlobalMarkFeed, offered: Offered, sim: SimExchange, http: RpcHttp
) -> None:
    eventually(lambda: offered.count() >= 1, what="the snapshot's mark")
    sim.step(3)
    eventually(lambda: feed.translator.marks_sent >= 2, what="the changes' marks")
    expected = _mid(http)

    def latest_is_the_mid() -> bool:
        latest = offered.latest()
        return latest is not None and latest.mark == expected

    eventually(latest_is_the_mid, what=f"the latest mark to be the book's mid {expected}")
    assert {symbol for symbol, _ in offered.marks} == {BTC}
    assert {mark.source for _, mark in offered.marks} == {MarkSource.STREAM}
    assert feed.translator.gaps == 0


def test_a_gap_in_the_books_changes_drops_it_and_subscribes_again_for_a_snapshot(
    feed: GlobalMarkFeed, offered: Offered, sim: SimExchange, gateway: SimGlobalGateway,
    http: RpcHttp,
) -> None:  # fmt: skip
    eventually(lambda: offered.count() >= 1, what="the snapshot's mark")
    gateway.faults.book_gap()
    sim.step(2)  # the first change is left out: the second names it
    eventually(lambda: feed.translator.gaps == 1, what="the gap seen")
    sim.step(2)
    expected = _mid(http)

    def again() -> bool:
        latest = offered.latest()
        return latest is not None and latest.mark == expected and BTC in feed.translator.books_ready

    eventually(again, what="a new snapshot and the book's mid again")
    assert feed.translator.gaps == 1
