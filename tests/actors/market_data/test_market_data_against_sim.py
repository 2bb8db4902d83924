"""The market-data tree (marks, streamer, poller) against the simulated exchange, with faults.

Real sockets on 127.0.0.1, real threads, the real clients. Each test injects one fault and
waits on published events (never on time) to show that marks keep flowing through the
poller's fallback, the stream comes back, no window is corrupted and no mailbox piles up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from perpsbot.actors import window_length
from perpsbot.bot import ROOT, VenueLink, bot_sections, bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig
from perpsbot.messages import FeedState, FeedStatusChanged, MarkSource, MarksSampled
from perpsbot.runtime import ActorSystem, ChildSpec, Subscribe, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import Backoff, JwtSigner, VenueRateLimiter
from tests.actors.conftest import Subscriber
from tests.support.keys import make_credentials

SYMBOLS = ("BTC-USD", "ETH-USD")
# A silent socket is stale after 30 s of real time: under load a healthy feed can go quiet for
# a second, and a test that is not about staleness must not see a handover it did not cause.
MARKET_DATA = MarketDataConfig(
    symbols=SYMBOLS,
    update_interval_s=0.05,
    poll_interval_s=0.2,
    stale_after_s=30.0,
    short_ma=2,
    long_ma=4,
)
#: For the tests of staleness: the handover to the poller within a second of silence.
STALE_AFTER_1S = attrs.evolve(MARKET_DATA, stale_after_s=1.0)


class Harness:
    """A running sim, the bot's market-data tree and a probe subscribed to what it publishes."""

    def __init__(
        self, sim: SimExchange, system: ActorSystem, probe: Probe, config: BotConfig
    ) -> None:
        self.sim = sim
        self.system = system
        self.probe = probe
        self.config = config
        self._seen = 0
        self._since_ns = 0

    def mark_now(self) -> None:
        """Later waits only look at events after this point, and at marks received after it."""
        self._seen = len(self.probe.events)
        self._since_ns = self.system.clock.time_ns()

    def wait_for(self, predicate: Callable[[Any], bool], what: str, timeout_s: float = 10) -> Any:
        start = self._seen
        events = self.probe.wait_for(
            lambda evs: any(predicate(e) for e in evs[start:]), timeout_s, what
        )
        return next(e for e in events[start:] if predicate(e))

    def wait_for_state(self, state: FeedState, timeout_s: float = 10) -> FeedStatusChanged:
        found: FeedStatusChanged = self.wait_for(
            lambda e: isinstance(e, FeedStatusChanged) and e.state is state,
            f"feed {state.value}",
            timeout_s,
        )
        return found

    def wait_for_fresh_marks(self, source: MarkSource, timeout_s: float = 10) -> MarksSampled:
        def fresh(e: Any) -> bool:
            return isinstance(e, MarksSampled) and all(
                not s.stale
                and s.source is source
                and s.age_s is not None
                and e.ts_created_ns - s.age_s * 1e9 >= self._since_ns  # received since the mark
                for s in e.samples
            )

        found: MarksSampled = self.wait_for(fresh, f"fresh {source.value} marks", timeout_s)
        return found

    def assert_healthy_afterwards(self) -> None:
        samples = [e for e in self.probe.events if isinstance(e, MarksSampled)]
        assert samples, "no cycle was published"
        longest = window_length(self.config.market_data)
        for sampled in samples:
            for sample in sampled.samples:
                assert len(sample.window) <= longest
                assert all(type(m) is Decimal and m > 0 for m in sample.window)
        for actor in self.system.inspect().walk():
            assert actor.mailbox_depth < 50, f"{actor.path} piles up: {actor.mailbox_depth}"


class _Recorder:
    """A feed recorder that only counts the ticker messages it was handed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickers = 0

    def frame(self, raw: bytes, received_ns: int) -> None:
        if raw.startswith(b'{"channel":"ticker",'):
            with self._lock:
                self._tickers += 1

    def quote(
        self, product_id: str, bid: Decimal | None, ask: Decimal | None, received_ns: int
    ) -> None:
        pass  # quotes are not what these tests look at

    @property
    def tickers(self) -> int:
        with self._lock:
            return self._tickers


@pytest.fixture
def harness(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    # Parametrized indirectly: a recorder, or market-data settings of a test's own.
    param = getattr(request, "param", None)
    recorder = param if isinstance(param, _Recorder) else None
    market_data = param if isinstance(param, MarketDataConfig) else MARKET_DATA
    clock = SystemClock()
    credentials, public_pem = make_credentials()
    sim = SimExchange(
        SimConfig(tick_interval_s=0.02, public_keys_pem=(public_pem,), seed=7), clock=clock
    )
    probe = Probe()
    with sim:
        link = VenueLink(
            rest_base_url=sim.rest_base_url,
            market_ws_url=sim.market_ws_url,
            limiter=VenueRateLimiter(clock=clock),
            signer=JwtSigner(credentials, clock=clock),
            clock=clock,
            request_timeout_s=2.0,
            feed_backoff=Backoff(initial_s=0.05, max_s=0.4),
        )
        config = BotConfig(
            market_data=market_data, journal=JournalConfig(path=tmp_path / "journal.sqlite3")
        )
        system = ActorSystem("market-data", clock=clock, sections_of=bot_sections)
        try:
            system.start(bot_spec(config, link, recorder=recorder), config=config)
            system.start(
                SupervisorSpec(
                    name="probe",
                    children=[
                        ChildSpec(name="p", factory=lambda c: Subscriber(context=c, probe=probe))
                    ],
                )
            )
            me = system.address("probe/p")
            system.address(f"{ROOT}/marks").tell(Subscribe(subscriber=me, topic=MarksSampled))
            system.address(f"{ROOT}/streamer").tell(
                Subscribe(subscriber=me, topic=FeedStatusChanged)
            )
            harness = Harness(sim, system, probe, config)
            harness.wait_for_fresh_marks(MarkSource.STREAM)
            yield harness
        finally:
            system.shutdown()


def test_a_dropped_connection_is_replaced_and_marks_keep_flowing(harness: Harness) -> None:
    harness.mark_now()
    harness.sim.faults.disconnect_all(close_code=None)
    harness.wait_for_state(FeedState.RECONNECTING)
    harness.wait_for_state(FeedState.SUBSCRIBED)
    harness.wait_for_fresh_marks(MarkSource.STREAM)
    harness.assert_healthy_afterwards()


def _feed_stats(harness: Harness) -> Any:
    return eventually(lambda: harness.system.state(f"{ROOT}/streamer").feed, 5, "feed stats")


def test_with_every_book_ready_the_ticker_is_not_received(harness: Harness) -> None:
    streamer = f"{ROOT}/streamer"
    ready = tuple(sorted(MARKET_DATA.symbols))
    eventually(lambda: harness.system.state(streamer).books_ready == ready, 10, "every book")
    # The ticker is unsubscribed at once; what was on its way by then arrives skipped.
    settled = _feed_stats(harness).frames + 20
    eventually(lambda: _feed_stats(harness).frames >= settled, 10, "twenty more frames")
    before = _feed_stats(harness)
    eventually(lambda: _feed_stats(harness).frames >= before.frames + 40, 10, "forty more")
    after = _feed_stats(harness)
    assert after.skipped == before.skipped  # no ticker frame came, not even to be skipped
    assert (after.decode_errors, after.gaps) == (0, 0)
    assert harness.system.state(streamer).books_ready == ready


_RECORDER = _Recorder()


@pytest.mark.parametrize("harness", [_RECORDER], indirect=True, ids=["recorded"])
def test_a_recorded_feed_keeps_the_ticker_with_every_book_ready_leaving_it_undecoded(
    harness: Harness,
) -> None:
    streamer = f"{ROOT}/streamer"
    eventually(lambda: _feed_stats(harness).skipped >= 20, 10, "twenty tickers skipped undecoded")
    state = harness.system.state(streamer)
    assert state.books_ready == tuple(sorted(MARKET_DATA.symbols))
    assert (state.feed.decode_errors, state.feed.gaps) == (0, 0)
    assert _RECORDER.tickers >= 20  # the recording keeps every message


def test_a_sequence_gap_resyncs_the_book(harness: Harness) -> None:
    harness.mark_now()
    harness.sim.faults.sequence_gap(3)
    streamer = f"{ROOT}/streamer"
    eventually(lambda: getattr(harness.system.state(streamer).feed, "gaps", 0) == 1, 5, "gap")
    # GAP_DETECTED itself may never be published: feed states conflate in the streamer's
    # mailbox, and a resync that is done before the streamer looks leaves only the latest.
    harness.wait_for_state(FeedState.SUBSCRIBED)
    harness.wait_for_fresh_marks(MarkSource.STREAM)
    harness.assert_healthy_afterwards()


@pytest.mark.parametrize("harness", [STALE_AFTER_1S], indirect=True, ids=["stale-after-1s"])
@pytest.mark.parametrize("heartbeats", [False, True], ids=["silent", "heartbeats-only"])
def test_a_stale_feed_hands_over_to_the_poller_until_the_stream_returns(
    harness: Harness, heartbeats: bool
) -> None:
    harness.mark_now()
    harness.sim.faults.stale_feed(heartbeats=heartbeats)
    harness.wait_for(  # STALE, unless a reconnect already superseded it (states conflate)
        lambda e: isinstance(e, FeedStatusChanged) and not e.state.healthy, "an unhealthy feed"
    )
    harness.wait_for_fresh_marks(MarkSource.POLL)
    poller = harness.system.state(f"{ROOT}/poller")
    assert poller.mode == "fallback"
    assert poller.marks_sent > 0
    harness.mark_now()
    harness.sim.faults.resume_feed()
    harness.wait_for_state(FeedState.SUBSCRIBED)
    harness.wait_for_fresh_marks(MarkSource.STREAM)
    harness.assert_healthy_afterwards()


@pytest.mark.slow  # long: the feed backs off in real time
@pytest.mark.parametrize("harness", [STALE_AFTER_1S], indirect=True, ids=["stale-after-1s"])
def test_refused_connections_back_off_while_the_poller_keeps_marks_fresh(
    harness: Harness,
) -> None:
    harness.mark_now()
    harness.sim.faults.refuse_connections(for_s=1.5)
    harness.sim.faults.disconnect_all(close_code=1011)
    reconnecting = harness.wait_for(
        lambda e: isinstance(e, FeedStatusChanged) and (e.attempt or 0) >= 2,
        "a second reconnect attempt",
    )
    assert reconnecting.delay_s is not None
    assert reconnecting.delay_s > 0
    harness.wait_for_fresh_marks(MarkSource.POLL)
    harness.wait_for_state(FeedState.SUBSCRIBED)
    harness.wait_for_fresh_marks(MarkSource.STREAM)
    harness.assert_healthy_afterwards()


def test_changing_symbols_restarts_only_the_executor_the_feeds_and_the_poller(
    harness: Harness,
) -> None:
    system = harness.system
    new = attrs.evolve(
        harness.config,
        market_data=attrs.evolve(MARKET_DATA, symbols=("BTC-USD", "BIP-20DEC30-CDE")),
    )
    plan = system.reload(new)
    # The executor loads the new symbol's product; the user channel follows its orders.
    assert plan.restarts == (
        f"{ROOT}/executor", f"{ROOT}/streamer", f"{ROOT}/poller", f"{ROOT}/userfeed",
    )  # fmt: skip
    assert plan.notified == (f"{ROOT}/risk", f"{ROOT}/marks")
    # A cycle of the old symbols told before the reload may be recorded after it: only what
    # the marks (and the probe) handle from here on counts.
    wait_drained(system.address(f"{ROOT}/marks"))
    wait_drained(system.address("probe/p"))
    harness.mark_now()
    sampled = harness.wait_for_fresh_marks(MarkSource.STREAM)
    assert [s.symbol for s in sampled.samples] == ["BTC-USD", "BIP-20DEC30-CDE"]
    assert len(sampled.sample("BTC-USD").window) > 1  # BTC's window survived
    assert system.address(f"{ROOT}/marks").incarnation == 1
    harness.assert_healthy_afterwards()
