"""The candles endpoint serves the exchange's whole history: generated before its start,
deterministic per seed, with gaps where the venue has no candles."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import TIMEOUT_S

DAY_S = 86400
PATH = "/api/v3/brokerage/market/products/BTC-USD/candles"


def _candles(
    http: requests.Session, sim: SimExchange, start_s: int, end_s: int, **params: str
) -> list[dict[str, str]]:
    response = http.get(
        sim.rest_base_url.removesuffix("/api/v3/brokerage") + PATH,
        params={"start": str(start_s), "end": str(end_s), "granularity": "ONE_MINUTE", **params},
        timeout=TIMEOUT_S,
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, str]] = response.json()["candles"]
    return rows


def _page_starts(rows: list[dict[str, str]]) -> list[int]:
    return [int(row["start"]) for row in rows]


def test_a_month_ago_has_full_pages_of_minute_candles_newest_first(
    sim: SimExchange, http: requests.Session, clock: FakeClock
) -> None:
    start = clock.time_ns() // 10**9 // 60 * 60 - 30 * DAY_S

    rows = _candles(http, sim, start, start + 350 * 60)

    assert _page_starts(rows) == [start + 60 * i for i in range(349, -1, -1)]
    for row in rows:
        low, high = Decimal(row["low"]), Decimal(row["high"])
        assert low <= Decimal(row["open"]) <= high
        assert low <= Decimal(row["close"]) <= high


def test_old_history_is_the_same_for_the_same_seed_and_differs_for_another(
    make_sim: Callable[..., SimExchange], http: requests.Session, clock: FakeClock
) -> None:
    start = clock.time_ns() // 10**9 // 60 * 60 - 20 * DAY_S
    first, same, other = make_sim(seed=7), make_sim(seed=7), make_sim(seed=8)

    assert _candles(http, first, start, start + 3600) == _candles(http, same, start, start + 3600)
    assert _candles(http, first, start, start + 3600) != _candles(http, other, start, start + 3600)


def test_one_day_of_history_ends_where_the_next_begins(
    sim: SimExchange, http: requests.Session, clock: FakeClock
) -> None:
    now_minute = clock.time_ns() // 10**9 // 60 * 60
    # Each generated day ends at the open of the day after it: the seam is no jump.
    seam = now_minute - 2 * DAY_S
    rows = _candles(http, sim, seam - 300, seam + 300)
    by_start = {int(r["start"]): r for r in rows}

    step = abs(Decimal(by_start[seam]["open"]) - Decimal(by_start[seam - 60]["close"]))

    assert step <= Decimal(by_start[seam]["open"]) * Decimal("0.01")


def test_before_the_listing_there_are_no_candles(
    sim: SimExchange, http: requests.Session, clock: FakeClock
) -> None:
    listed = clock.time_ns() // 10**9 // 60 * 60 - DAY_S - 366 * DAY_S

    rows = _candles(http, sim, listed - 100 * 60, listed + 100 * 60)

    assert _page_starts(rows) == [listed + 60 * i for i in range(99, -1, -1)]


def test_minutes_the_exchange_did_not_run_have_no_candles(
    sim: SimExchange, http: requests.Session, clock: FakeClock
) -> None:
    clock.advance(120)
    sim.step()
    clock.advance(3600)  # an hour in which the exchange made no candles
    sim.step()
    now_minute = clock.time_ns() // 10**9 // 60 * 60

    starts = _page_starts(_candles(http, sim, now_minute - 2 * 3600, now_minute + 60))

    assert now_minute in starts
    assert now_minute - 3600 + 120 not in starts
    assert now_minute - 3600 in starts


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"granularity": "TEN_MINUTE"}, "granularity must be one of ONE_MINUTE"),
        ({"limit": "100"}, "start and end must be within 100 candles"),
    ],
)
def test_a_range_or_granularity_the_venue_does_not_serve_is_an_invalid_argument(
    sim: SimExchange,
    http: requests.Session,
    clock: FakeClock,
    params: dict[str, str],
    message: str,
) -> None:
    end = clock.time_ns() // 10**9
    query = {"start": str(end - 200 * 60), "end": str(end), "granularity": "ONE_MINUTE", **params}

    response = http.get(
        sim.rest_base_url + "/market/products/BTC-USD/candles", params=query, timeout=TIMEOUT_S
    )

    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert response.json()["message"].startswith(message)


def test_a_kept_exchange_started_days_later_serves_the_same_old_candles(
    clock: FakeClock, http: requests.Session, tmp_path: Path
) -> None:
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=7)
    month_ago = clock.time_ns() // 10**9 // 60 * 60 - 30 * DAY_S
    first = SimExchange(config, clock=clock, state_dir=tmp_path).start()
    before = _candles(http, first, month_ago, month_ago + 3600)
    first.stop()
    clock.advance(3 * DAY_S)  # the kept state holds only the last day of its own candles

    second = SimExchange(config, clock=clock, state_dir=tmp_path).start()
    try:
        after = _candles(http, second, month_ago, month_ago + 3600)
    finally:
        second.stop()

    assert after == before
