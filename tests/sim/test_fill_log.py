"""Fills queries, answered from the fills indexed by order and by time: each page exactly the
fills a scan of every fill would give, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api


def _fills_a_minute_apart(api: Api, clock: FakeClock, count: int, *, first: int = 0) -> list[str]:
    """``count`` market sells a minute apart (each one fill, or more); their order ids."""
    order_ids = []
    for i in range(first, first + count):
        clock.advance(60)
        reply = api.order(f"c-{i}", "ETH-USD", "SELL", market_market_ioc={"base_size": "0.01"})
        order_ids.append(reply["success_response"]["order_id"])
    return order_ids


def _every_page(api: Api, **query: Any) -> list[dict[str, Any]]:
    """Every fill the query finds, following the cursor three fills at a time."""
    fills: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get("/orders/historical/fills", limit=3, cursor=cursor, **query).json()
        fills += page["fills"]
        cursor = page["cursor"]
        if not cursor:
            return fills


def _time(fill: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(fill["sequence_timestamp"].replace("Z", "+00:00"))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_fills_since_a_time_are_exactly_those_traded_at_or_after_it_page_by_page(
    api: Api, clock: FakeClock
) -> None:
    _fills_a_minute_apart(api, clock, 8)
    every = _every_page(api)
    since = _time(every[4])

    found = _every_page(api, start_sequence_timestamp=_rfc3339(since))

    assert found == [f for f in every if _time(f) >= since]
    assert 0 < len(found) < len(every)


def test_fills_of_named_orders_are_theirs_newest_first_page_by_page(
    api: Api, clock: FakeClock
) -> None:
    order_ids = _fills_a_minute_apart(api, clock, 8)
    named = [order_ids[1], order_ids[6], order_ids[3]]
    every = _every_page(api)

    found = _every_page(api, order_ids=named)
    since = _rfc3339(_time(every[-1]) + timedelta(minutes=3))
    found_since = _every_page(api, order_ids=named, start_sequence_timestamp=since)

    assert found == [f for f in every if f["order_id"] in named]
    assert [f["order_id"] for f in found] == [order_ids[6], order_ids[3], order_ids[1]]
    assert found_since == [f for f in found if _time(f) >= _time(every[-1]) + timedelta(minutes=3)]


def test_after_the_exchange_clock_went_back_fills_since_a_time_are_still_all_found(
    api: Api, clock: FakeClock, sim: SimExchange
) -> None:
    _fills_a_minute_apart(api, clock, 4)
    sim.faults.clock_skew(-600)  # the next fills are made ten minutes before the first ones
    _fills_a_minute_apart(api, clock, 4, first=4)
    every = _every_page(api)
    since = _time(every[1])  # among the fills made after the clock went back

    found = _every_page(api, start_sequence_timestamp=_rfc3339(since))

    assert found == [f for f in every if _time(f) >= since]
    assert len(found) == 6  # two of the late ones, the four made before
