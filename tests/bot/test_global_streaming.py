"""``venue.kind = "global"`` with ``market_data.streaming``: the streamer takes marks from the
gateway's ``book`` channels (the embedded exchange's simulated gateway), and a dropped
streams socket is replaced while the poller's ticker marks fill in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perpsbot.bot import ROOT, bot_sections, bot_spec, open_venue
from perpsbot.bot._global import global_gateway_of
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig, VenueConfig, VenueKind
from perpsbot.config._profiles import GLOBAL_DEV_SYMBOLS
from perpsbot.messages import FeedState, FeedStatusChanged, MarkSource, MarksSampled
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import Probe, eventually
from perpsbot.sim.gateway import SimGlobalGateway
from tests.actors.conftest import observed


class Streaming:
    """The bot's tree on the Global venue with streaming on, and a probe of its marks and
    feed states."""

    def __init__(self, gateway: SimGlobalGateway, system: ActorSystem, probe: Probe) -> None:
        self.gateway = gateway
        self.system = system
        self.probe = probe

    def after(self) -> int:
        return len(self.probe.events)

    def wait(self, since: int, predicate: Any, what: str) -> None:
        self.probe.wait_for(lambda evs: any(predicate(e) for e in evs[since:]), 20.0, what)

    def fresh_marks(self, since: int, source: MarkSource) -> None:
        self.wait(
            since,
            lambda e: (
                isinstance(e, MarksSampled)
                and all(not s.stale and s.source is source for s in e.samples)
            ),
            f"fresh {source.value} marks",
        )

    def feed(self, since: int, state: FeedState) -> None:
        self.wait(
            since,
            lambda e: isinstance(e, FeedStatusChanged) and e.state is state,
            f"feed {state.value}",
        )


@pytest.fixture
def streaming(tmp_path: Path) -> Iterator[Streaming]:
    config = BotConfig(
        journal=JournalConfig(path=tmp_path / "journal.sqlite3"),
        market_data=MarketDataConfig(
            symbols=GLOBAL_DEV_SYMBOLS, streaming=True, update_interval_s=0.1,
            poll_interval_s=0.2, stale_after_s=1.0, short_ma=2, long_ma=4,
        ),
        venue=VenueConfig(kind=VenueKind.GLOBAL),
    )  # fmt: skip
    probe = Probe()
    with contextlib.ExitStack() as stack:
        clock = SystemClock()
        link = open_venue(config, clock, stack)
        system = ActorSystem("global-streaming", clock=clock, sections_of=bot_sections)
        stack.callback(system.shutdown)
        watched = {"marks": (MarksSampled,), "streamer": (FeedStatusChanged,)}
        system.start(observed(bot_spec(config, link), probe, watched), config=config)
        yield Streaming(global_gateway_of(link.embedded), system, probe)  # type: ignore[arg-type]


def test_the_streamer_takes_marks_from_the_gateways_book_channels(streaming: Streaming) -> None:
    streaming.feed(0, FeedState.SUBSCRIBED)
    streaming.fresh_marks(0, MarkSource.STREAM)
    state = streaming.system.state(f"{ROOT}/streamer")
    assert state.books_ready == tuple(sorted(GLOBAL_DEV_SYMBOLS))
    assert state.marks_sent > 0


def test_a_dropped_streams_socket_is_replaced_and_streamed_marks_come_back(
    streaming: Streaming,
) -> None:
    streaming.feed(0, FeedState.SUBSCRIBED)
    streamer = f"{ROOT}/streamer"
    streaming.gateway.faults.drop_connections()
    eventually(
        lambda: streaming.system.state(streamer).reconnects >= 1, 20.0, "the socket replaced"
    )
    streaming.fresh_marks(streaming.after(), MarkSource.STREAM)
    eventually(
        lambda: streaming.system.state(streamer).state is FeedState.SUBSCRIBED,
        20.0,
        "the feed healthy again",
    )
