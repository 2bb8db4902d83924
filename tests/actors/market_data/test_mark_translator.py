"""The feed thread's half of the streamer, driven directly: frames in, flushes, marks out."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from perpsbot.actors.market_data._feed_lag import LagMeter
from perpsbot.actors.market_data._mark_translator import MarkTranslator
from perpsbot.clock import FakeClock
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    FeedConnected,
    FeedGapDetected,
    FeedStats,
    MarketDataReported,
    MarketDataResumed,
    MarkSource,
    PendingMark,
)
from perpsbot.runtime import ActorSystem, CoalescedReady, Coalescer, SupervisorSpec
from perpsbot.runtime.testing import Probe
from perpsbot.venue import SkippedFrame, decode_frame, format_rfc3339_ns
from tests.actors.conftest import config, subscriber_spec
from tests.venue import examples

_TS = "2026-04-07T14:30:01.000000001Z"


def _l2(seq: int, product: str, kind: str, *levels: tuple[str, str, str], ts: str = _TS) -> Any:
    updates = [
        {"side": side, "event_time": _TS, "price_level": price, "new_quantity": size}
        for side, price, size in levels
    ]
    return decode_frame(
        json.dumps({
            "channel": "l2_data", "client_id": "", "timestamp": ts, "sequence_num": seq,
            "events": [{"type": kind, "product_id": product, "updates": updates}],
        })
    )  # fmt: skip


_STATS = FeedStats(
    frames=7, decode_errors=0, callback_errors=0, gaps=0, out_of_order=0, stale=0,
    connect_attempts=1, connects=1, protocol_errors=0,
)  # fmt: skip


@pytest.fixture
def feed_marks(system: ActorSystem, probe: Probe) -> Coalescer[str, PendingMark]:
    system.start(
        SupervisorSpec(
            name="t", children=[subscriber_spec(probe, "marks"), subscriber_spec(probe, "streamer")]
        ),
        config=config(),
    )
    coalescer: Coalescer[str, PendingMark] = Coalescer("feed-marks")
    coalescer.bind(system.address("t/marks"))
    return coalescer


@pytest.fixture
def translator(
    system: ActorSystem, clock: FakeClock, feed_marks: Coalescer[str, PendingMark]
) -> MarkTranslator:
    translator = MarkTranslator(
        symbols=("BTC-USD", "ETH-USD"),
        marks=feed_marks,
        streamer=system.address("t/streamer"),
        clock=clock,
        ids=SequentialIds(),
        report_every_s=3.0,
    )
    translator.bind_feed(lambda: None, lambda: _STATS)
    return translator


_BARRIERS = itertools.count()


def _barrier(system: ActorSystem, probe: Probe) -> list[Any]:
    """Everything the translator told the streamer before this point has arrived."""
    token = f"barrier-{next(_BARRIERS)}"
    system.address("t/streamer").tell(token)
    return probe.wait_for_event(token)


def test_a_read_of_many_frames_offers_one_exact_mark_per_symbol_at_the_flush(
    translator: MarkTranslator, feed_marks: Coalescer[str, PendingMark], probe: Probe
) -> None:
    translator.on_frame(
        _l2(0, "BTC-USD", "snapshot", ("bid", "100.1", "1"), ("offer", "100.2", "1"))
    )
    translator.on_frame(_l2(1, "ETH-USD", "snapshot", ("bid", "10", "1"), ("offer", "11", "1")))
    for seq, bid in enumerate(("100.11", "100.12", "100.13"), start=2):
        translator.on_frame(_l2(seq, "BTC-USD", "update", ("bid", bid, "2")))
    assert translator.marks_sent == 0  # nothing leaves before the feed reads the socket again

    translator.flush()

    assert translator.marks_sent == 2
    probe.wait_for_event(CoalescedReady(source="feed-marks"))
    pending = feed_marks.take()
    assert pending["BTC-USD"].mark == Decimal("100.165")  # (100.13 + 100.2) / 2, no float dust
    assert pending["ETH-USD"].mark == Decimal("10.5")
    assert pending["BTC-USD"].source is MarkSource.STREAM
    assert pending["BTC-USD"].ts_event_ns == 1775572201000000001


def test_an_unchanged_book_is_not_offered_again_until_refresh(
    translator: MarkTranslator, clock: FakeClock
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()
    translator.on_frame(_l2(1, "BTC-USD", "update", ("bid", "99", "5")))  # behind the top
    translator.flush()
    assert translator.marks_sent == 1
    clock.advance(1.0)  # refresh_s: a quiet market still looks alive
    translator.on_frame(_l2(2, "BTC-USD", "update", ("bid", "98", "5")))
    translator.flush()
    assert translator.marks_sent == 2


def _told(system: ActorSystem, probe: Probe, kind: type) -> list[Any]:
    return [e for e in _barrier(system, probe) if type(e) is kind]


def test_market_data_after_a_connect_is_announced_once_as_resumed(
    system: ActorSystem, translator: MarkTranslator, probe: Probe
) -> None:
    translator.on_status(
        FeedConnected(message_id="c", ts_created_ns=0, feed="market", url="ws://x", attempt=0)
    )
    translator.on_frame(decode_frame(examples.HEARTBEAT))
    translator.flush()
    assert _told(system, probe, MarketDataResumed) == []  # heartbeats are not market data
    for seq in range(2):
        translator.on_frame(_l2(seq, "BTC-USD", "snapshot", ("bid", "1", "1"), ("offer", "2", "1")))
        translator.flush()
    assert len(_told(system, probe, MarketDataResumed)) == 1


def test_reports_go_out_at_most_every_interval_and_once_when_data_pauses(
    system: ActorSystem, translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()  # the first report goes out at once
    for seq in range(1, 4):  # then within the interval: none
        clock.advance(0.5)
        translator.on_frame(_l2(seq, "BTC-USD", "update", ("bid", f"100.{seq}", "1")))
        translator.flush()
    assert len(_told(system, probe, MarketDataReported)) == 1
    translator.on_frame(decode_frame(examples.HEARTBEAT))
    translator.flush()  # the first read without market data reports the tail
    translator.flush()  # and only once
    first, tail = _told(system, probe, MarketDataReported)
    assert tail.last_data_ns == clock.monotonic_ns()  # the latest data, 1.5 s after the first
    assert tail.last_data_ns - first.last_data_ns == 1_500_000_000
    assert (tail.marks_sent, tail.books_ready, tail.stats) == (4, ("BTC-USD",), _STATS)


def test_a_long_read_is_flushed_every_batch_so_marks_are_not_held_back(
    translator: MarkTranslator,
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "200", "1")))
    for seq in range(1, 127):
        translator.on_frame(_l2(seq, "BTC-USD", "update", ("bid", str(100 + seq), "1")))
    assert translator.marks_sent == 0
    translator.on_frame(_l2(127, "BTC-USD", "update", ("bid", "199", "1")))  # the 128th frame
    assert translator.marks_sent == 1


def _ticker(seq: int, product: str, bid: str, ask: str, ts: str = _TS) -> Any:
    ticker = {"type": "ticker", "product_id": product, "price": bid, "best_bid": bid,
              "best_ask": ask, "best_bid_quantity": "1", "best_ask_quantity": "1"}  # fmt: skip
    return decode_frame(
        json.dumps({
            "channel": "ticker", "client_id": "", "timestamp": ts, "sequence_num": seq,
            "events": [{"type": "update", "tickers": [ticker]}],
        })
    )  # fmt: skip


def _offered(probe: Probe, feed_marks: Coalescer[str, PendingMark]) -> dict[str, PendingMark]:
    """What the mark window would take at its latest wake-up."""
    probe.wait_for_event(CoalescedReady(source="feed-marks"))
    return feed_marks.take()


def test_a_read_that_starts_with_a_ticker_stamps_the_book_mark_with_this_read(
    translator: MarkTranslator,
    clock: FakeClock,
    probe: Probe,
    feed_marks: Coalescer[str, PendingMark],
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()
    _offered(probe, feed_marks)
    clock.advance(30.0)  # a ticker (the book is ready: no ticker mark), then the book moves
    translator.on_frame(_ticker(1, "BTC-USD", "100", "102"))
    translator.on_frame(_l2(2, "BTC-USD", "update", ("bid", "100.5", "1")))
    translator.flush()
    assert (
        _offered(probe, feed_marks)["BTC-USD"].ts_received_ns == clock.monotonic_ns()
    )  # not 30 s old


def test_a_gap_still_offers_the_marks_of_the_frames_before_it(
    translator: MarkTranslator, probe: Probe, feed_marks: Coalescer[str, PendingMark]
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.on_frame(_l2(1, "BTC-USD", "update", ("bid", "100.9", "1")))
    translator.on_status(
        FeedGapDetected(message_id="g", ts_created_ns=0, feed="market", expected=2, found=5)
    )
    assert _offered(probe, feed_marks)["BTC-USD"].mark == Decimal("100.95")


def _ms_ago(clock: FakeClock, ms: int) -> str:
    """An exchange timestamp ``ms`` before the fake clock's wall time."""
    return format_rfc3339_ns(clock.time_ns() - ms * 1_000_000)


def test_feed_lag_runs_from_the_exchange_timestamp_to_the_read_one_sample_per_symbol(
    system: ActorSystem, translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    btc = ("bid", "100", "1"), ("offer", "101", "1")
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", *btc, ts=_ms_ago(clock, 90)))
    translator.on_frame(_l2(1, "BTC-USD", "update", ("bid", "100.5", "1"), ts=_ms_ago(clock, 20)))
    translator.on_frame(_ticker(2, "ETH-USD", "10", "11", ts=_ms_ago(clock, 7)))
    clock.advance(0.5)  # the read's frames take long to handle: the lag counts from the read

    translator.flush()

    (report,) = _told(system, probe, MarketDataReported)
    lag = report.lag
    assert lag.count == 2  # BTC's latest level2 message and the ticker; not every frame
    assert lag.sum_s == pytest.approx(0.027)
    assert lag.latest_s == pytest.approx(0.020)
    assert lag.bounds_s[:6] == (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)
    assert lag.counts[:6] == (0, 0, 0, 1, 2, 2)  # cumulative: 7 ms <= 0.01, 20 ms <= 0.025


def test_feed_lag_is_sampled_at_most_every_10_ms(
    system: ActorSystem, translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    for seq, later_s in enumerate((0.0, 0.005, 3.0)):  # a report goes out 3 s after the first
        clock.advance(later_s)
        translator.on_frame(
            _l2(seq, "BTC-USD", "snapshot", ("bid", "1", "1"), ("offer", "2", "1"),
                ts=_ms_ago(clock, 5))
        )  # fmt: skip
        translator.flush()
    reports = _told(system, probe, MarketDataReported)
    assert [r.lag.count for r in reports] == [1, 2]  # the read 5 ms after the first: none


def test_a_level2_timestamp_that_does_not_parse_gives_no_lag_sample_but_the_mark_goes_out(
    system: ActorSystem, translator: MarkTranslator, probe: Probe
) -> None:
    bad = "2026-13-45T99:99:99.000000Z"
    translator.on_frame(
        _l2(0, "BTC-USD", "snapshot", ("bid", "1", "1"), ("offer", "2", "1"), ts=bad)
    )
    translator.flush()
    (report,) = _told(system, probe, MarketDataReported)
    assert (report.bad_timestamps, report.lag.count, report.lag.latest_s) == (1, 0, None)
    assert report.marks_sent == 1


def test_a_negative_lag_counts_as_zero() -> None:
    meter = LagMeter(bounds_s=(0.01, 0.1))
    meter.observe(-3_000_000)  # the local clock 3 ms behind the exchange's
    meter.observe(50_000_000)
    meter.observe(2_000_000_000)
    lag = meter.snapshot()
    assert (lag.counts, lag.count, lag.sum_s, lag.latest_s) == ((1, 2), 3, 2.05, 2.0)
    with pytest.raises(ValueError, match="strictly ascending"):
        LagMeter(bounds_s=(0.1, 0.01))


def test_the_feed_leaves_ticker_and_trades_undecoded_while_every_book_is_ready_only(
    system: ActorSystem, clock: FakeClock, feed_marks: Coalescer[str, PendingMark]
) -> None:
    translator = MarkTranslator(
        symbols=("BTC-USD", "ETH-USD"),
        marks=feed_marks,
        streamer=system.address("t/streamer"),
        clock=clock,
        ids=SequentialIds(),
        report_every_s=3.0,
    )
    asked: list[tuple[str, ...]] = []
    translator.bind_feed(lambda: None, lambda: _STATS, lambda c: asked.append(tuple(c)))
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    assert asked == []  # ETH-USD's mark still comes from its ticker
    translator.on_frame(_l2(1, "ETH-USD", "snapshot", ("bid", "10", "1"), ("offer", "11", "1")))
    assert asked == [("ticker", "market_trades")]
    translator.on_frame(_l2(2, "BTC-USD", "update", ("bid", "100.5", "1")))
    assert len(asked) == 1  # asked once, not per frame

    translator.on_status(
        FeedGapDetected(message_id="g", ts_created_ns=0, feed="market", expected=3, found=5)
    )
    assert asked[-1] == ()  # the books are unusable: tickers give the marks again
    translator.on_frame(_l2(5, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.on_frame(_l2(6, "ETH-USD", "snapshot", ("bid", "10", "1"), ("offer", "11", "1")))
    assert asked[-1] == ("ticker", "market_trades")


def test_a_skipped_frame_is_market_data_for_the_reports(
    system: ActorSystem, translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()
    clock.advance(1.0)
    translator.on_frame(SkippedFrame("ticker", 1))
    translator.flush()
    translator.flush()  # the first read without market data reports the tail
    first, tail = _told(system, probe, MarketDataReported)
    assert tail.last_data_ns - first.last_data_ns == 1_000_000_000
