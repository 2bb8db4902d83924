"""The quote poller against the simulated exchange's REST API, on a fake clock.

The fake clock only moves when a test says so, so these tests show that the poller acts on
the feed's health at once, without waiting for its timer, and on its timer otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perpsbot.actors import MarkWindowActor, QuotePollerActor, mark_window_mailbox
from perpsbot.clock import FakeClock
from perpsbot.data import RecordedQuote, RecordingWriter, read_recording
from perpsbot.ids import SequentialIds
from perpsbot.messages import FeedState, FeedStatusChanged
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import JwtSigner, VenueLink, VenueRateLimiter
from tests.actors.conftest import Subscriber, config
from tests.support.keys import make_credentials


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=3)) as sim:
        yield sim


def _status(state: FeedState) -> FeedStatusChanged:
    return FeedStatusChanged(message_id="s", ts_created_ns=0, state=state, detail="test")


def _start(
    system: ActorSystem,
    sim: SimExchange,
    clock: FakeClock,
    probe: Probe,
    *,
    streaming: bool,
    symbols: tuple[str, ...] = ("BTC-USD", "ETH-USD"),
    recorder: RecordingWriter | None = None,
) -> None:
    link = VenueLink(
        rest_base_url=sim.rest_base_url,
        market_ws_url=sim.market_ws_url,
        limiter=VenueRateLimiter(clock=clock),
        signer=JwtSigner(make_credentials()[0], clock=clock),
        clock=clock,
    )

    def poller(ctx: ActorContext) -> QuotePollerActor:
        address = ctx.system.address
        return QuotePollerActor(
            context=ctx,
            venue=link,
            marks=address("bot/marks"),
            recorder=recorder,
        )

    system.start(
        SupervisorSpec(
            name="bot",
            children=[
                ChildSpec(
                    name="marks",
                    factory=lambda ctx: MarkWindowActor(context=ctx),
                    mailbox=mark_window_mailbox,
                ),
                # Stands in for the streamer.
                ChildSpec(name="streamer", factory=lambda c: Subscriber(context=c, probe=probe)),
                ChildSpec(name="poller", factory=poller),
            ],
        ),
        config=config(streaming=streaming, poll_interval_s=5.0, symbols=symbols),
    )


def _ticks_handled(system: ActorSystem) -> int:
    state = system.state("bot/poller")
    return state.polls + state.skipped_while_feed_healthy


def _latest_sources(system: ActorSystem) -> dict[str, str]:
    latest = system.state("bot/marks").latest
    return {symbol: mark.source for symbol, mark in latest.items()}


def test_the_poller_takes_over_the_moment_the_feed_turns_unhealthy(
    sim: SimExchange, clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, ids=SequentialIds(), watchdog_interval_s=None)
    try:
        _start(system, sim, clock, probe, streaming=True)
        poller = system.address("bot/poller")
        poller.tell(_status(FeedState.SUBSCRIBED))
        eventually(lambda: system.state("bot/poller").mode == "idle")
        # The timer's first tick (due at start) is handled, polled or skipped: on a busy
        # machine it can arrive after the status, and would poll a second time below.
        eventually(lambda: _ticks_handled(system) == 1)
        before = system.state("bot/poller")
        poller.tell(_status(FeedState.STALE))  # no clock advance: the timer cannot be why
        # GetState overtakes queued messages (control lane), so wait for the poll to show.
        eventually(lambda: system.state("bot/poller").polls == before.polls + 1)
        state = system.state("bot/poller")
        assert state.mode == "fallback"
        assert state.marks_sent == before.marks_sent + 2
        eventually(lambda: _latest_sources(system) == {"BTC-USD": "poll", "ETH-USD": "poll"})
    finally:
        system.shutdown()


def test_a_healthy_feed_leaves_the_poller_idle_on_its_timer(
    sim: SimExchange, clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, ids=SequentialIds(), watchdog_interval_s=None)
    try:
        _start(system, sim, clock, probe, streaming=True)
        system.address("bot/poller").tell(_status(FeedState.SUBSCRIBED))
        eventually(lambda: system.state("bot/poller").mode == "idle")
        eventually(lambda: _ticks_handled(system) == 1)  # the tick due at start
        before = system.state("bot/poller")
        clock.advance(5.0)
        eventually(lambda: _ticks_handled(system) == 2)
        after = system.state("bot/poller")
        assert after.skipped_while_feed_healthy == before.skipped_while_feed_healthy + 1
        assert after.polls == before.polls
    finally:
        system.shutdown()


def test_with_streaming_off_the_poller_is_the_primary_source(
    sim: SimExchange, clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, ids=SequentialIds(), watchdog_interval_s=None)
    try:
        _start(system, sim, clock, probe, streaming=False)
        eventually(lambda: system.state("bot/poller").polls == 1)  # first poll at start
        clock.advance(5.0)
        eventually(lambda: system.state("bot/poller").polls == 2)
        assert system.state("bot/poller").mode == "primary"
        eventually(lambda: set(_latest_sources(system).values()) == {"poll"})
    finally:
        system.shutdown()


def test_a_recording_run_keeps_every_quote_polled(
    sim: SimExchange, clock: FakeClock, probe: Probe, tmp_path: Path
) -> None:
    path = tmp_path / "feed.jsonl.gz"
    recorder = RecordingWriter(path, symbols=("BTC-USD", "ETH-USD"), started_ns=clock.time_ns())
    system = ActorSystem("t", clock=clock, ids=SequentialIds(), watchdog_interval_s=None)
    try:
        _start(system, sim, clock, probe, streaming=False, recorder=recorder)
        eventually(lambda: system.state("bot/poller").polls == 1)  # first poll at start
        clock.advance(5.0)
        eventually(lambda: system.state("bot/poller").polls == 2)
    finally:
        system.shutdown()
        recorder.close()
    quotes = [r for r in read_recording(path) if isinstance(r, RecordedQuote)]
    assert [q.product_id for q in quotes] == ["BTC-USD", "ETH-USD"] * 2
    for quote in quotes:
        assert quote.bid is not None
        assert quote.ask is not None
        assert quote.bid < quote.ask


def test_one_symbol_failing_does_not_starve_the_others(
    sim: SimExchange, clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, ids=SequentialIds(), watchdog_interval_s=None)
    try:
        # The venue answers 404 to any request naming an unknown product, the batched one
        # included: in whatever order the poller asks, only NOPE-USD may go without a mark.
        _start(system, sim, clock, probe, streaming=False, symbols=("NOPE-USD", "ETH-USD"))
        for poll in (1, 2):
            eventually(lambda poll=poll: system.state("bot/poller").polls == poll)
            state = system.state("bot/poller")
            assert state.errors_by_symbol == {"NOPE-USD": poll}
            assert state.marks_sent == poll
            clock.advance(5.0)
        # GetState overtakes queued marks (control lane): wait for the marks to be handled.
        wait_drained(system.address("bot/marks"))
        assert _latest_sources(system) == {"ETH-USD": "poll"}
    finally:
        system.shutdown()
