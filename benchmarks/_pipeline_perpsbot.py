"""The perpsbot contender: the real feed, translator, streamer and mark window in an ActorSystem.

Only two benchmark actors are added: the mark window is the real :class:`MarkWindowActor`
with recording hooks on ``observe_mark`` and ``on_receive`` (public API only), and a
``MarksSampled`` subscriber stands in for the strategy.
"""

from __future__ import annotations

import threading
from typing import Any

from benchmarks._pipeline_common import CLOCK, Recorder, rss_mib, start_thread
from benchmarks._report import percentile
from benchmarks._source import PRODUCTS
from perpsbot.actors import (
    MarkWindowActor,
    StreamerActor,
    mark_window_mailbox,
    streamer_mailbox,
)
from perpsbot.bot import VenueLink
from perpsbot.clock import stopwatch_ns
from perpsbot.config import BotConfig, Channel, MarketDataConfig
from perpsbot.messages import FeedStats, MarkObserved, MarksSampled, PendingMark, SampleMarks
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    Coalescer,
    SupervisorSpec,
    Wiring,
)
from perpsbot.venue import VenueRateLimiter

ROOT = "bench"


class _Probe:
    """What the benchmark actors record; read by the benchmark after the run."""

    def __init__(
        self, recorder: Recorder, *, burst: bool = False, busy_ms: float = 0.0, spin: bool = True
    ) -> None:
        self.recorder = recorder
        self.burst = burst
        self.busy_ns = int(busy_ms * 1e6)
        self.spin = spin
        self.nap = threading.Event()  # never set: a blocking wait that releases the GIL
        self.cycle_events: dict[int, dict[str, int]] = {}
        self.lag_us: list[float] = []  # owner handling time - feed receive time (monotonic)
        self.sample_age_ms: list[float] = []
        self.samples = 0


class _RecordingMarkWindow(MarkWindowActor):
    def __init__(
        self,
        *,
        context: ActorContext,
        probe: _Probe,
        feed_marks: Coalescer[str, PendingMark],
    ) -> None:
        super().__init__(context=context, feed_marks=feed_marks)
        self._probe = probe
        self._last_event_ns: dict[str, int] = {}
        self._cycles = 0
        self._monotonic_ns = CLOCK.monotonic_ns

    def observe_mark(self, message: MarkObserved) -> None:
        probe = self._probe
        probe.recorder.mark(message.mark, message.ts_event_ns)
        if probe.burst:
            probe.lag_us.append((self._monotonic_ns() - message.ts_received_ns) / 1e3)
        self._last_event_ns[message.symbol] = message.ts_event_ns
        super().observe_mark(message)

    def on_receive(self, message: Any) -> None:
        if type(message) is SampleMarks:
            self._cycles += 1  # the sample about to be published includes these marks
            self._probe.cycle_events[self._cycles] = dict(self._last_event_ns)
        super().on_receive(message)


class _Consumer(BaseActor):
    """The strategy's seat: records frame -> sample latency. In the burst it takes ``busy_ms``
    per sample: spinning on the CPU (holding the GIL, the worst kind of slow consumer) or
    blocked (like a slow I/O call, GIL released)."""

    def __init__(self, *, context: ActorContext, probe: _Probe) -> None:
        super().__init__(context=context)
        self._probe = probe

    def on_receive(self, message: Any) -> None:
        match message:
            case MarksSampled():
                probe = self._probe
                probe.samples += 1
                events = probe.cycle_events.pop(message.cycle, {})
                for sample in message.samples:
                    ts_event_ns = events.get(sample.symbol)
                    if ts_event_ns is not None and not sample.stale:
                        probe.recorder.sampled(ts_event_ns)
                    if (
                        probe.burst
                        and sample.age_s is not None
                        and not probe.recorder.done.is_set()
                    ):
                        probe.sample_age_ms.append(sample.age_s * 1e3)  # during the burst only
                if probe.busy_ns and probe.spin:
                    until = stopwatch_ns() + probe.busy_ns
                    while stopwatch_ns() < until:
                        pass
                elif probe.busy_ns:
                    probe.nap.wait(probe.busy_ns / 1e9)
            case _:
                self.unhandled(message)


def _spec(venue: VenueLink, probe: _Probe) -> SupervisorSpec:
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")

    def consumer(ctx: ActorContext) -> _Consumer:
        return _Consumer(context=ctx, probe=probe)

    def marks(ctx: ActorContext) -> MarkWindowActor:
        return _RecordingMarkWindow(context=ctx, probe=probe, feed_marks=feed_marks)

    def streamer(ctx: ActorContext) -> StreamerActor:
        return StreamerActor(context=ctx, venue=venue, feed_marks=feed_marks)

    return SupervisorSpec(
        name=ROOT,
        children=[
            ChildSpec(name="consumer", factory=consumer),
            ChildSpec(name="marks", factory=marks, mailbox=mark_window_mailbox),
            ChildSpec(
                name="streamer",
                factory=streamer,
                mailbox=streamer_mailbox,
                shutdown_timeout_s=10.0,
            ),
        ],
        wiring=Wiring.of({"marks": {MarksSampled: ("consumer",)}}),  # the strategy's seat
    )


def _config(interval_s: float) -> BotConfig:
    return BotConfig(
        market_data=MarketDataConfig(
            symbols=PRODUCTS, channel=Channel.LEVEL2, update_interval_s=interval_s,
            stale_after_s=15.0,
        )
    )  # fmt: skip


def _venue(url: str) -> VenueLink:
    return VenueLink(
        rest_base_url="http://127.0.0.1:9/api/v3/brokerage",  # unused: no REST on this path
        market_ws_url=url,
        limiter=VenueRateLimiter(clock=CLOCK),
        signer=None,
        clock=CLOCK,
    )


def _final_feed_stats(system: ActorSystem) -> FeedStats:
    """The feed's counters once its report after the burst is in (the feed thread reports at
    its first read without market data: a heartbeat, at most a second later)."""
    last: FeedStats | None = None
    for _ in range(5):
        feed: FeedStats | None = system.state(f"{ROOT}/streamer", timeout_s=10).feed
        if feed is not None and last is not None and feed.frames == last.frames:
            return feed
        last = feed
        threading.Event().wait(1.2)
    assert last is not None, "the streamer never reported its feed's counters"
    return last


def run_perpsbot(url: str, recorder: Recorder, interval_s: float, timeout_s: float) -> None:
    """Throughput or paced latency: run until the sentinel mark reached the mark window."""
    system = ActorSystem("bench", watchdog_interval_s=None)
    try:
        system.start(_spec(_venue(url), _Probe(recorder)), config=_config(interval_s))
        recorder.wait(timeout_s)
    finally:
        system.shutdown(timeout_s=30)


def run_burst(
    url: str, seconds: float, interval_s: float, busy_ms: float, *, spin: bool, tail_s: float = 1.0
) -> dict[str, Any]:
    """``seconds`` of the source's full speed into a consumer that takes ``busy_ms`` per sample
    (spinning or blocked); RSS every 100 ms from before the connection until ``tail_s`` after."""
    recorder = Recorder(latency=False)
    probe = _Probe(recorder, burst=True, busy_ms=busy_ms, spin=spin)
    rss: list[tuple[float, float]] = []
    started = stopwatch_ns()
    stop_rss = threading.Event()

    def sample_rss() -> None:
        while True:
            rss.append(((stopwatch_ns() - started) / 1e9, rss_mib()))
            if stop_rss.wait(0.1):
                return

    sampler = start_thread(sample_rss, "rss")
    system = ActorSystem("bench-burst", watchdog_interval_s=None)
    try:
        system.start(_spec(_venue(url), probe), config=_config(interval_s))
        recorder.wait(seconds + 60)
        stop_rss.wait(tail_s)  # after the burst, for the tail of the RSS series
        feed = _final_feed_stats(system)
        marks = system.inspect().find(f"{ROOT}/marks")
    finally:
        system.shutdown(timeout_s=30)
        stop_rss.set()
        sampler.join(5)
    burst_rss = [mib for t, mib in rss if t >= 1.0]  # after start-up allocations
    return {
        "seconds": seconds,
        "cycle_s": interval_s,
        "consumer_busy_ms": busy_ms,
        "consumer": "spins (holds the GIL)" if spin else "blocks (GIL released)",
        "frames_received": feed.frames,
        "feed_frames_per_s": feed.frames / seconds,
        "marks_at_owner": recorder.marks,
        "samples_consumed": probe.samples,
        "marks_mailbox_max_depth": marks.mailbox_max_depth,
        "latest_mark_lag_us": {
            "p50": percentile(probe.lag_us, 50),
            "p99": percentile(probe.lag_us, 99),
            "max": max(probe.lag_us),
        },
        "sample_age_ms": {
            "p50": percentile(probe.sample_age_ms, 50),
            "p99": percentile(probe.sample_age_ms, 99),
            "max": max(probe.sample_age_ms),
        },
        "rss_mib": {
            "start": rss[0][1],
            "after_1s": burst_rss[0] if burst_rss else rss[-1][1],
            "max": max(m for _, m in rss),
            "end": rss[-1][1],
            "series": [(round(t, 2), round(m, 2)) for t, m in rss],
        },
    }
