"""What every pipeline contender shares: the mark recorder, the receive loop, RSS."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import websocket

from benchmarks._report import cpu_s
from benchmarks._source import PRODUCTS, sentinel_mid
from perpsbot.clock import SystemClock
from perpsbot.venue._wsframes import OPCODE_CLOSE, FrameReader
from perpsbot.venue.codec import decode_frame, encode_subscribe
from perpsbot.venue.frames import Frame

CLOCK = SystemClock()
time_ns = CLOCK.time_ns
SENTINEL = sentinel_mid(PRODUCTS[-1])  # the last mark of every run
READ_BYTES = 32 * 1024  # what perpsbot's feed reads at once (a flush per read)
WINDOW = 25  # marks a window keeps: the original's max(short_ma, long_ma) + 5 by default
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


class Recorder:
    """Hooked into each contender's mark owner and sample consumer; the same code for all.

    ``mark`` runs where the mark lands (the owner), ``sampled`` where a sample is consumed.
    Latencies are wall-clock microseconds from the frame's embedded send time.
    """

    def __init__(self, *, latency: bool = False, cpu: bool = False) -> None:
        self.latency = latency
        self.cpu = cpu
        self.done = threading.Event()
        self.first_event_ns = 0
        self.end_ns = 0
        self.marks = 0
        self.mark_us: list[float] = []
        self.sample_us: list[float] = []
        self.first_cpu_s = 0.0  # process CPU time at the first mark and at the sentinel
        self.end_cpu_s = 0.0

    def mark(self, mark: Decimal, ts_event_ns: int) -> None:
        self.marks += 1
        if self.latency:
            self.mark_us.append((time_ns() - ts_event_ns) / 1e3)
        if not self.first_event_ns or ts_event_ns < self.first_event_ns:
            self.first_event_ns = ts_event_ns
            if self.cpu and not self.first_cpu_s:
                self.first_cpu_s = cpu_s()
        if mark == SENTINEL:
            self.end_ns = time_ns()
            if self.cpu:
                self.end_cpu_s = cpu_s()
            self.done.set()

    def cpu_s(self) -> float:
        """Process CPU seconds from the first mark to the sentinel (with ``cpu=True``)."""
        return self.end_cpu_s - self.first_cpu_s

    def sampled(self, ts_event_ns: int) -> None:
        if self.latency:
            self.sample_us.append((time_ns() - ts_event_ns) / 1e3)

    def wait(self, timeout_s: float) -> None:
        if not self.done.wait(timeout_s):
            raise RuntimeError(f"the sentinel mark never reached its owner in {timeout_s}s")

    def rate(self, frames: int) -> float:
        return frames / ((self.end_ns - self.first_event_ns) / 1e9)


def connect(url: str, **options: Any) -> Any:
    """A websocket-client connection subscribed to heartbeats and level2 on the source."""
    ws = websocket.create_connection(url, timeout=30, **options)
    ws.send(encode_subscribe("heartbeats"))
    ws.send(encode_subscribe("level2", PRODUCTS))
    return ws


def tuned(url: str) -> Any:
    return connect(url, skip_utf8_validation=True, enable_multithread=False)


def receive(
    url: str,
    on_frame: Callable[[Frame], Any],
    on_wait: Callable[[], None] | None = None,
    *,
    read_bytes: int | None = None,
) -> None:
    """The receive loop the floor, legacy and plain-pykka contenders share (perpsbot's feed
    does the same: FrameReader, then ``decode_frame``); returns when the source closes.
    ``read_bytes`` caps one socket read (``FrameReader``'s default when None)."""
    ws = tuned(url)
    try:
        sized = {} if read_bytes is None else {"read_bytes": read_bytes}
        read = FrameReader(ws, on_wait=on_wait, **sized).read
        decode = decode_frame
        while True:
            opcode, data = read()
            if opcode == OPCODE_CLOSE:
                if on_wait is not None:
                    on_wait()  # the last read's batch
                return
            on_frame(decode(data))
    finally:
        ws.abort()


def start_thread(target: Callable[[], Any], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
