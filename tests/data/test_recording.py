"""A recording holds the frames the feed decoded, in order, and refuses what it cannot read."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.clock import SystemClock
from perpsbot.data import (
    RecordedEnd,
    RecordedFrame,
    RecordedQuote,
    RecordingHeader,
    RecordingWriter,
    read_recording,
    read_recording_header,
)
from perpsbot.errors import RecordingFormatError
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import VenueRateLimiter
from perpsbot.venue.codec import decode_frame
from perpsbot.venue.feed import WebSocketFeed
from perpsbot.venue.frames import Frame


@pytest.fixture
def ticking_sim() -> Iterator[SimExchange]:
    sim = SimExchange(
        SimConfig(verify_auth=False, tick_interval_s=0.01, seed=7), clock=SystemClock()
    ).start()
    yield sim
    sim.stop()


def test_a_recording_reads_back_as_the_frames_the_feed_decoded(
    ticking_sim: SimExchange, tmp_path: Path
) -> None:
    path = tmp_path / "feed.jsonl.gz"
    clock = SystemClock()
    writer = RecordingWriter(path, symbols=("BTC-USD",), started_ns=clock.time_ns())
    decoded: list[Frame] = []
    lock = threading.Lock()

    def keep(frame: Frame) -> None:
        with lock:
            decoded.append(frame)

    feed = WebSocketFeed(
        url=ticking_sim.market_ws_url, channels=("level2", "ticker"), product_ids=("BTC-USD",),
        on_frame=keep, on_status=lambda _status: None, on_raw=writer.frame,
        limiter=VenueRateLimiter(clock=clock), clock=clock,
    )  # fmt: skip
    feed.start()
    try:
        eventually(lambda: len(decoded) >= 30, timeout_s=20)
    finally:
        feed.stop()
    writer.quote("BTC-USD", Decimal("100.5"), None, clock.time_ns())
    writer.close()

    records = list(read_recording(path))

    frames = [r for r in records if isinstance(r, RecordedFrame)]
    assert [decode_frame(f.raw) for f in frames] == decoded
    times = [f.received_ns for f in frames]
    assert times == sorted(times)
    assert records[-1] == RecordedQuote(
        received_ns=records[-1].received_ns, product_id="BTC-USD", bid=Decimal("100.5"), ask=None
    )


def test_a_recording_closed_with_its_end_time_ends_with_it(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    writer = RecordingWriter(path, symbols=("BTC-USD",), started_ns=1_000)
    writer.frame(b'{"channel":"heartbeats"}', 2_000)
    writer.close(ended_ns=9_000)

    assert list(read_recording(path)) == [
        RecordedFrame(received_ns=2_000, raw=b'{"channel":"heartbeats"}'),
        RecordedEnd(ended_ns=9_000),
    ]


def test_a_recordings_header_says_its_version_symbols_and_start(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    RecordingWriter(path, symbols=("BTC-USD", "ETH-USD"), started_ns=1_000).close()

    assert read_recording_header(path) == RecordingHeader(
        version=2, symbols=("BTC-USD", "ETH-USD"), started_ns=1_000
    )


def test_a_header_without_its_start_is_refused_naming_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl.gz"
    with gzip.open(path, "wb") as file:
        file.write(b'{"format":"perpsbot-feed-recording","version":2,"symbols":["X"]}\n')

    with pytest.raises(RecordingFormatError, match=r"an int started_ns, has \{'format'"):
        read_recording_header(path)


def test_a_recording_of_version_1_without_an_end_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl.gz"
    with gzip.open(path, "wb") as file:
        file.write(
            b'{"format":"perpsbot-feed-recording","version":1,"symbols":[],"started_ns":0}\n'
        )
        file.write(b'{"t":5,"k":"frame","d":"{}"}\n')

    assert list(read_recording(path)) == [RecordedFrame(received_ns=5, raw=b"{}")]


def test_a_recording_of_another_version_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl.gz"
    with gzip.open(path, "wb") as file:
        file.write(b'{"format":"perpsbot-feed-recording","version":0,"symbols":[]}\n')

    with pytest.raises(RecordingFormatError, match=r"of version 1 or 2, is of version 0"):
        list(read_recording(path))


def test_a_file_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.gz"
    with gzip.open(path, "wb") as file:
        file.write(b"hello\n")

    with pytest.raises(RecordingFormatError, match="must start with a perpsbot-feed-recording"):
        list(read_recording(path))


def test_a_recording_cut_short_yields_what_it_holds_then_says_so(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    writer = RecordingWriter(path, symbols=("BTC-USD",), started_ns=0)
    for i in range(2000):
        writer.frame(b'{"channel":"heartbeats","n":%d}' % i, i)
    writer.close()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])

    read: list[RecordedFrame | RecordedQuote] = []
    with pytest.raises(RecordingFormatError, match="must be a whole gzip-compressed"):
        read.extend(read_recording(path))

    assert 0 < len(read) < 2000
