"""``download_candles`` pages the simulated exchange's candles into the store: across the
350-candle limit, resumably, idempotently, through 429s, over gaps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.data import CandleStore, DownloadProgress, download_candles
from perpsbot.errors import DataStoreError, VenueTransportError
from perpsbot.sim import SimExchange
from perpsbot.venue import RestClient, RetryPolicy

DAY_S = 86400
BTC = "BTC-USD"


def _now_minute(clock: FakeClock) -> int:
    return clock.time_ns() // 10**9 // 60 * 60


def test_a_day_of_minutes_pages_across_the_limit_into_the_store(
    client: RestClient, store: CandleStore, clock: FakeClock
) -> None:
    until = _now_minute(clock) - 3 * DAY_S
    pages: list[DownloadProgress] = []

    done = download_candles(
        client, store, product_id=BTC, granularity="ONE_MINUTE",
        span=(until - DAY_S, until), on_page=pages.append,
    )  # fmt: skip

    assert (done.pages, done.candles) == (5, 1440)  # 350 + 350 + 350 + 350 + 40
    assert [p.done_s for p in pages] == [21000, 42000, 63000, 84000, 86400]
    starts = [c.start_s for c in store.candles(BTC, "ONE_MINUTE")]
    assert starts == list(range(until - DAY_S, until, 60))
    assert store.covered(BTC, "ONE_MINUTE") == [(until - DAY_S, until)]


def test_a_rerun_fetches_nothing_and_changes_nothing(
    client: RestClient, store: CandleStore, clock: FakeClock
) -> None:
    until = _now_minute(clock) - 3 * DAY_S
    span = (until - 12 * 3600, until)
    download_candles(client, store, product_id=BTC, granularity="FIVE_MINUTE", span=span)
    before = list(store.candles(BTC, "FIVE_MINUTE"))

    again = download_candles(client, store, product_id=BTC, granularity="FIVE_MINUTE", span=span)

    assert (again.pages, again.missing_s) == (0, 0)
    assert list(store.candles(BTC, "FIVE_MINUTE")) == before
    assert len(before) == 144


def test_an_interrupted_download_keeps_its_pages_and_resumes_with_the_rest(
    client: RestClient, store: CandleStore, clock: FakeClock
) -> None:
    until = _now_minute(clock) - 3 * DAY_S
    span = (until - DAY_S, until)

    def interrupt_after_two_pages(progress: DownloadProgress) -> None:
        if progress.pages == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_candles(
            client, store, product_id=BTC, granularity="ONE_MINUTE", span=span,
            on_page=interrupt_after_two_pages,
        )  # fmt: skip
    assert len(list(store.candles(BTC, "ONE_MINUTE"))) == 700

    rest = download_candles(client, store, product_id=BTC, granularity="ONE_MINUTE", span=span)

    assert (rest.pages, rest.candles) == (3, 740)
    starts = [c.start_s for c in store.candles(BTC, "ONE_MINUTE")]
    assert starts == list(range(until - DAY_S, until, 60))


def test_a_venue_that_fails_midway_loses_nothing_stored(
    make_client: Callable[..., RestClient], store: CandleStore, sim: SimExchange, clock: FakeClock
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    until = _now_minute(clock) - 3 * DAY_S
    span = (until - DAY_S, until)
    stored: list[int] = []

    def fail_the_next_request(progress: DownloadProgress) -> None:
        stored.append(progress.candles)
        if progress.pages == 3:
            sim.faults.http_error(503, path="/candles")

    with pytest.raises(VenueTransportError):
        download_candles(
            client, store, product_id=BTC, granularity="ONE_MINUTE", span=span,
            on_page=fail_the_next_request,
        )  # fmt: skip

    assert len(list(store.candles(BTC, "ONE_MINUTE"))) == stored[-1] == 1050
    assert store.missing(BTC, "ONE_MINUTE", span) == [(until - DAY_S + 1050 * 60, until)]


def test_429s_from_the_venue_are_waited_out_and_retried(
    client: RestClient, store: CandleStore, sim: SimExchange, clock: FakeClock
) -> None:
    until = _now_minute(clock) - 3 * DAY_S
    sim.faults.http_error(429, retry_after_s=2, count=2, path="/candles")

    done = download_candles(
        client, store, product_id=BTC, granularity="ONE_MINUTE", span=(until - 3600, until)
    )

    assert done.candles == 60
    assert len(list(store.candles(BTC, "ONE_MINUTE"))) == 60
    assert sim.faults.take_http_error("/candles") is None  # both 429s were answered


def test_thirty_days_stay_within_the_public_rate_limit(
    make_client: Callable[..., RestClient], store: CandleStore, clock: FakeClock
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    until = _now_minute(clock) - DAY_S
    # The sim enforces Coinbase's 10 public requests a second: a 429 would raise here (no
    # retries); the client's budget paces the pages instead.
    done = download_candles(
        client, store, product_id=BTC, granularity="FIVE_MINUTE", span=(until - 30 * DAY_S, until)
    )

    assert (done.pages, done.candles) == (25, 8640)


def test_a_span_the_venue_has_no_candles_for_is_remembered_as_asked(
    client: RestClient, store: CandleStore, sim: SimExchange, clock: FakeClock
) -> None:
    clock.advance(120)
    sim.step()
    clock.advance(3600)  # an hour in which the exchange made no candles
    sim.step()
    clock.advance(60)
    now = _now_minute(clock)
    span = (now - 3 * 3600, now)

    first = download_candles(client, store, product_id=BTC, granularity="ONE_MINUTE", span=span)
    again = download_candles(client, store, product_id=BTC, granularity="ONE_MINUTE", span=span)

    starts = [c.start_s for c in store.candles(BTC, "ONE_MINUTE")]
    assert first.candles == len(starts) < 180
    assert now - 3600 + 60 not in starts  # the gap
    assert again.pages == 0


def test_a_store_of_another_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "candles.sqlite3"
    CandleStore(path).close()
    import sqlite3  # noqa: PLC0415  (only to damage the file)

    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")

    with pytest.raises(DataStoreError, match=r"must be of format version 1, is 99"):
        CandleStore(path)
