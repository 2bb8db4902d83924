"""The feed thread's half of the streamer, driven directly: frames in, flushes, marks out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from perpsbot.actors._mark_translator import DataResumed, DataSilent, MarkTranslator
from perpsbot.clock import FakeClock
from perpsbot.messages import MarkSource
from perpsbot.runtime import ActorSystem, CoalescedReady, SupervisorSpec
from perpsbot.venue import FeedGapDetected, decode_frame
from tests.actors.conftest import config, subscriber_spec
from tests.support.probe import Probe
from tests.venue import examples

_TS = "2026-04-07T14:30:01.000000001Z"


def _l2(seq: int, product: str, kind: str, *levels: tuple[str, str, str]) -> Any:
    updates = [
        {"side": side, "event_time": _TS, "price_level": price, "new_quantity": size}
        for side, price, size in levels
    ]
    return decode_frame(
        json.dumps({
            "channel": "l2_data", "client_id": "", "timestamp": _TS, "sequence_num": seq,
            "events": [{"type": kind, "product_id": product, "updates": updates}],
        })
    )  # fmt: skip


@pytest.fixture
def translator(system: ActorSystem, clock: FakeClock, probe: Probe) -> MarkTranslator:
    system.start(
        SupervisorSpec(
            name="t", children=[subscriber_spec(probe, "marks"), subscriber_spec(probe, "streamer")]
        ),
        config=config(),
    )
    return MarkTranslator(
        symbols=("BTC-USD", "ETH-USD"),
        marks=system.address("t/marks"),
        streamer=system.address("t/streamer"),
        clock=clock,
        stale_after_s=3.0,
    )


def _barrier(system: ActorSystem, probe: Probe) -> list[Any]:
    """Everything the translator told the streamer before this point has arrived."""
    system.address("t/streamer").tell("barrier")
    return probe.wait_for_event("barrier")


def test_a_read_of_many_frames_offers_one_exact_mark_per_symbol_at_the_flush(
    translator: MarkTranslator, probe: Probe
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
    events = probe.wait_for(lambda ev: any(type(e) is CoalescedReady for e in ev))
    (ready,) = [e for e in events if type(e) is CoalescedReady]
    pending = ready.source.take()
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


def test_data_earlier_in_the_same_read_is_not_silence(
    system: ActorSystem, translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()
    clock.advance(10.0)  # long past stale_after_s, then data and a heartbeat in one read
    translator.on_frame(_l2(1, "BTC-USD", "update", ("bid", "100", "2")))
    translator.on_frame(decode_frame(examples.HEARTBEAT))
    events = _barrier(system, probe)
    assert DataResumed() in events
    assert not any(type(e) is DataSilent for e in events)

    clock.advance(10.0)  # now a heartbeat alone, after real silence
    translator.on_frame(decode_frame(examples.HEARTBEAT))
    probe.wait_for(lambda ev: any(type(e) is DataSilent for e in ev), what="DataSilent")


def test_a_long_read_is_flushed_every_batch_so_marks_are_not_held_back(
    translator: MarkTranslator,
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "200", "1")))
    for seq in range(1, 127):
        translator.on_frame(_l2(seq, "BTC-USD", "update", ("bid", str(100 + seq), "1")))
    assert translator.marks_sent == 0
    translator.on_frame(_l2(127, "BTC-USD", "update", ("bid", "199", "1")))  # the 128th frame
    assert translator.marks_sent == 1


def _ticker(seq: int, product: str, bid: str, ask: str) -> Any:
    ticker = {"type": "ticker", "product_id": product, "price": bid, "best_bid": bid,
              "best_ask": ask, "best_bid_quantity": "1", "best_ask_quantity": "1"}  # fmt: skip
    return decode_frame(
        json.dumps({
            "channel": "ticker", "client_id": "", "timestamp": _TS, "sequence_num": seq,
            "events": [{"type": "update", "tickers": [ticker]}],
        })
    )  # fmt: skip


def _offered(probe: Probe) -> dict[str, Any]:
    """What the latest wake-up of the mark window carries."""
    events = probe.wait_for(lambda ev: any(type(e) is CoalescedReady for e in ev))
    ready = [e for e in events if type(e) is CoalescedReady][-1]
    return ready.source.take()  # type: ignore[no-any-return]


def test_a_read_that_starts_with_a_ticker_stamps_the_book_mark_with_this_read(
    translator: MarkTranslator, clock: FakeClock, probe: Probe
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.flush()
    _offered(probe)
    clock.advance(30.0)  # a ticker (the book is ready: no ticker mark), then the book moves
    translator.on_frame(_ticker(1, "BTC-USD", "100", "102"))
    translator.on_frame(_l2(2, "BTC-USD", "update", ("bid", "100.5", "1")))
    translator.flush()
    assert _offered(probe)["BTC-USD"].ts_received_ns == clock.monotonic_ns()  # not 30 s old


def test_a_gap_still_offers_the_marks_of_the_frames_before_it(
    translator: MarkTranslator, probe: Probe
) -> None:
    translator.on_frame(_l2(0, "BTC-USD", "snapshot", ("bid", "100", "1"), ("offer", "101", "1")))
    translator.on_frame(_l2(1, "BTC-USD", "update", ("bid", "100.9", "1")))
    translator.on_status(FeedGapDetected(feed="market", ts_ns=0, expected=2, found=5))
    assert _offered(probe)["BTC-USD"].mark == Decimal("100.95")
