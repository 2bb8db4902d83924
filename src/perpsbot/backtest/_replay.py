"""Replaying a feed recording through the bot's tree: the recorded frames go, one at a time
at their receive times, through a loopback websocket to the bot's own market feed, which
decodes them with its own decoder (``perpsbot backtest --data FILE.recording``). The tree
starts when the recording started, so its timers keep the live run's instants, and the quote
poller's polls are answered with the recording's REST quotes: each poll gets, per product,
the last quote recorded at or before its instant (what the live poller got at that instant;
a live feed that connected late left the marks to the poller, and so does the replay).

The feed's thread is outside the runtime, so the driver waits for it: after sending a frame
it waits until the feed has handed every frame it read to the mark translator (the feed's
``on_wait``, called before each read once the frames read so far went to ``on_frame``), then
until the actors are idle. The exchange behind the orders is the simulated one, standing at
its own prices.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import attrs

from perpsbot.backtest._driver import DriverCounts, IdleDriver
from perpsbot.backtest._journal_file import backtest_journal
from perpsbot.backtest._link import InProcessLink
from perpsbot.backtest._run import sim_settings
from perpsbot.bot import bot_sections, bot_spec
from perpsbot.clock import Clock, FakeClock, stopwatch_ns
from perpsbot.config import BotConfig
from perpsbot.data import (
    RecordedEnd,
    RecordedFrame,
    RecordedQuote,
    read_recording,
    read_recording_header,
)
from perpsbot.errors import BacktestError
from perpsbot.ids import ThreadOrderedIds
from perpsbot.runtime import ActorSystem, Execution
from perpsbot.sim import FrameReplayServer, SimExchange
from perpsbot.venue import WebSocketFeed
from perpsbot.venue.link import QuoteClient
from perpsbot.venue.records import BestBidAsk

__all__ = ["ReplayResult", "replay_recording"]

_FEED_TIMEOUT_S = 30.0


@attrs.frozen(kw_only=True)
class ReplayResult:
    """What a replay played and where its journal is (an ordinary journal)."""

    journal_path: Path
    frames: int
    recorded_s: float
    """From the recording's start to its end (the last frame's receive time in a recording
    of version 1)."""
    counts: DriverCounts
    elapsed_s: float
    """Real seconds the replay took, start and stop of the tree included."""


class _ReplayLink(InProcessLink):
    """The in-process link with the market feed pointed at the replay, counting what it
    hands on."""

    def __init__(
        self, sim: SimExchange, clock: Clock, replay_url: str, quotes: Sequence[RecordedQuote]
    ) -> None:
        super().__init__(sim, clock)
        self.market_ws_url = replay_url
        self._quotes = quotes
        self.feed_linger_s = 0.0  # read each frame as it comes: the driver waits for it
        self._counted = threading.Condition()
        self._received = 0
        self._handed_on = 0

    def market_feed(self, **options: Any) -> WebSocketFeed:
        on_raw: Callable[[bytes, int], None] | None = options.pop("on_raw", None)
        on_wait: Callable[[], None] | None = options.pop("on_wait", None)

        def raw(data: bytes, time_ns: int) -> None:
            with self._counted:
                self._received += 1
            if on_raw is not None:
                on_raw(data, time_ns)

        def wait() -> None:
            if on_wait is not None:
                on_wait()
            with self._counted:
                self._handed_on = self._received
                self._counted.notify_all()

        return super().market_feed(on_raw=raw, on_wait=wait, **options)

    def quote_client(self) -> QuoteClient:
        return _RecordedQuotes(self._quotes, self.clock)

    def wait_handed_on(self, frames: int, timeout_s: float) -> bool:
        with self._counted:
            return self._counted.wait_for(lambda: self._handed_on >= frames, timeout_s)


class _RecordedQuotes:
    """The quote poller's client in a replay: the last quote of each product recorded at or
    before now (found by bisection: a poll costs the same at the end of a long recording as
    at its start)."""

    def __init__(self, quotes: Sequence[RecordedQuote], clock: Clock) -> None:
        self._clock = clock
        self._by_product: dict[str, tuple[list[int], list[RecordedQuote]]] = {}
        for quote in quotes:  # in the order received, so in time order
            times, recorded = self._by_product.setdefault(quote.product_id, ([], []))
            times.append(quote.received_ns)
            recorded.append(quote)

    def best_bid_ask(self, product_ids: list[str]) -> list[BestBidAsk]:
        now_ns = self._clock.time_ns()
        latest: list[RecordedQuote] = []
        for product_id in product_ids:
            times, recorded = self._by_product.get(product_id, ([], []))
            at = bisect.bisect_right(times, now_ns)
            if at:
                latest.append(recorded[at - 1])
        return [
            BestBidAsk(
                product_id=q.product_id, bid=q.bid, bid_size=None, ask=q.ask, ask_size=None,
                ts_ns=q.received_ns,
            )
            for q in latest
        ]  # fmt: skip

    def within(self, seconds: float) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


@attrs.define
class _FrameStep:
    frame: RecordedFrame
    number: int
    server: FrameReplayServer
    link: _ReplayLink

    @property
    def at_ns(self) -> int:
        return self.frame.received_ns

    @property
    def timers_first(self) -> bool:
        return True

    def apply(self) -> bool:
        self.server.send(self.frame.raw, _FEED_TIMEOUT_S)
        if not self.link.wait_handed_on(self.number, _FEED_TIMEOUT_S):
            raise BacktestError(
                f"the market feed must take recorded frame {self.number} within"
                f" {_FEED_TIMEOUT_S}s, did not"
            )
        return True


def replay_recording(
    config: BotConfig, *, recording: Path, journal: Path, seed: int = 0
) -> ReplayResult:
    """Run the bot's tree (``config`` as is: the live run's timing) on the frames of
    ``recording`` at their receive times.

    Raises:
        BacktestError: an empty recording, a journal that exists, a feed that does not take
            a frame, a stuck or failed tree.
        RecordingFormatError: the file is not a recording this perpsbot reads.
    """
    if journal.exists():
        raise BacktestError(f"the replay's journal must be a new file, {journal} exists")
    header = read_recording_header(recording)
    records = list(read_recording(recording))
    quotes = [r for r in records if isinstance(r, RecordedQuote)]
    frames: Sequence[RecordedFrame] = [r for r in records if isinstance(r, RecordedFrame)]
    if not frames:
        raise BacktestError(f"the recording {recording} must hold frames, it holds none")
    # The live run went on deciding on its last frames until the recording stopped.
    ended_ns = max(
        [frames[-1].received_ns] + [r.ended_ns for r in records if isinstance(r, RecordedEnd)]
    )
    config = attrs.evolve(
        config,
        live=False,
        market_data=attrs.evolve(config.market_data, streaming=True),
        execution=attrs.evolve(config.execution, dry_run=False),
        sim=sim_settings(config.sim, seed=seed),
        journal=attrs.evolve(config.journal, path=journal),
    )
    started_ns = min(
        [header.started_ns, frames[0].received_ns] + [q.received_ns for q in quotes[:1]]
    )
    stopwatch_start_ns = stopwatch_ns()
    clock = FakeClock(wall_start_ns=started_ns)
    server = FrameReplayServer()
    try:
        with (
            SimExchange(config.sim, clock=clock, websockets=False) as sim,
            backtest_journal(journal),
        ):
            link = _ReplayLink(sim, clock, server.url, quotes)
            system = ActorSystem(
                "replay",
                clock=clock,
                ids=ThreadOrderedIds(f"replay{seed}"),
                sections_of=bot_sections,
                watchdog_interval_s=None,
                driven_timers=True,
                execution=Execution.CALLING_THREAD,
            )
            try:
                system.start(bot_spec(config, link, disposable_journal=True), config=config)
                if not server.wait_subscribed(_FEED_TIMEOUT_S):
                    raise BacktestError(
                        f"the market feed must connect to the replay within {_FEED_TIMEOUT_S}s"
                    )
                driver = IdleDriver(system=system, clock=clock, sim=sim)
                steps = (
                    _FrameStep(frame=f, number=n, server=server, link=link)
                    for n, f in zip(itertools.count(1), frames, strict=False)
                )
                counts = driver.play(steps, until_ns=ended_ns)
            finally:
                system.shutdown()
    finally:
        server.stop()
    return ReplayResult(
        journal_path=journal,
        frames=len(frames),
        recorded_s=(ended_ns - started_ns) / 1e9,
        counts=counts,
        elapsed_s=(stopwatch_ns() - stopwatch_start_ns) / 1e9,
    )
