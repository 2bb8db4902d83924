from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from perpsbot.actors import MarkWindowActor, mark_window_mailbox
from perpsbot.bot import WIRING
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig
from perpsbot.errors import InvalidMessageError
from perpsbot.messages import MarkSource, MarksSampled
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe, wait_drained
from tests.actors.conftest import Marks, config, evolve_market_data, subscriber_spec
from tests.runtime.conftest import Crash

SECTIONS = {"market_data"}


class CrashableMarkWindow(MarkWindowActor):
    """The real actor, plus a way for a test to make a handler raise."""

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Crash):
            raise message.error
        super().on_receive(message)


def _marks_spec() -> ChildSpec:
    def build(ctx: ActorContext) -> MarkWindowActor:
        return CrashableMarkWindow(context=ctx)

    return ChildSpec(
        name="marks",
        factory=build,
        mailbox=mark_window_mailbox,
        config_sections=SECTIONS,
        live_sections=SECTIONS,
    )


def _start(system: ActorSystem, probe: Probe, cfg: BotConfig | None = None) -> None:
    system.start(
        SupervisorSpec(
            name="bot",
            children=[subscriber_spec(probe), _marks_spec()],
            wiring=WIRING.only({"risk", "marks"}),  # the probe stands in for risk
        ),
        config=cfg or config(),
    )


def _cycle(clock: FakeClock, probe: Probe, n: int) -> MarksSampled:
    """Advance one update interval and return the n-th MarksSampled.

    Only once cycle n - 1 is seen: the first cycle runs as every symbol has a mark, not on
    the clock, and arms the timer from its own time; an advance before it could fire the
    start-up timer as well, and the cycles would no longer follow the advances one for one.
    """
    clock.advance(1.0)
    events = probe.wait_for(
        lambda events: any(isinstance(e, MarksSampled) and e.cycle == n for e in events),
        what=f"cycle {n}",
    )
    return next(e for e in events if isinstance(e, MarksSampled) and e.cycle == n)


def _first_cycle(probe: Probe) -> MarksSampled:
    """The first cycle, which needs no timer once every symbol has a mark."""
    events = probe.wait_for(
        lambda events: any(isinstance(e, MarksSampled) for e in events), what="cycle 1"
    )
    return next(e for e in events if isinstance(e, MarksSampled))


def test_the_first_cycle_runs_as_soon_as_every_symbol_has_a_mark(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe)  # update_interval_s is 1.0; the fake clock never moves here
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 100))
    wait_drained(address)
    assert "BTC-USD" in system.state("bot/marks").latest
    assert not [e for e in probe.events if isinstance(e, MarksSampled)]  # ETH-USD has none
    address.tell(marks("ETH-USD", 10))
    sampled = _first_cycle(probe)
    assert sampled.cycle == 1
    assert sampled.sample("ETH-USD").window == (Decimal(10),)


def test_a_sample_updates_every_symbols_window(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe)
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 100))
    address.tell(marks("ETH-USD", 10))
    sampled = _first_cycle(probe)
    assert sampled.sample("BTC-USD").window == (Decimal(100),)
    assert sampled.sample("ETH-USD").window == (Decimal(10),)
    assert not sampled.sample("BTC-USD").stale


def test_the_window_is_trimmed_to_the_longer_ma_plus_five(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe, config(symbols=("BTC-USD",), short_ma=2, long_ma=3))
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 1))
    sampled = _first_cycle(probe)
    for n in range(2, 12):
        address.tell(marks("BTC-USD", n))
        sampled = _cycle(clock, probe, n)
    assert sampled.sample("BTC-USD").window == tuple(Decimal(n) for n in range(4, 12))


def test_a_symbol_without_data_does_not_stop_the_others(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe)  # the start-up timer is armed once start returns
    system.address("bot/marks").tell(marks("ETH-USD", 10))
    sampled = _cycle(clock, probe, 1)  # BTC-USD has no mark: the timer runs the first cycle
    assert sampled.sample("BTC-USD").stale
    assert sampled.sample("BTC-USD").window == ()
    assert sampled.sample("ETH-USD").window == (Decimal(10),)


def test_a_malformed_mark_cannot_even_be_built(marks: Marks) -> None:
    with pytest.raises(InvalidMessageError, match=r"MarkObserved.mark must be a positive finite"):
        marks("BTC-USD", -1)
    with pytest.raises(InvalidMessageError, match="was Decimal\\('NaN'\\)"):
        marks("BTC-USD", "NaN")


def test_a_subscriber_sees_a_stale_symbol_within_one_cycle(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe)  # stale_after_s = 3, one cycle = 1 s
    system.address("bot/marks").tell(marks("BTC-USD", 100))
    system.address("bot/marks").tell(marks("ETH-USD", 10))
    assert not _first_cycle(probe).sample("BTC-USD").stale  # at once: the mark is 0 s old
    for cycle in (2, 3, 4):
        assert not _cycle(clock, probe, cycle).sample("BTC-USD").stale
    sampled = _cycle(clock, probe, 5)  # the mark is now 4 s old
    btc = sampled.sample("BTC-USD")
    assert btc.stale
    assert btc.age_s == pytest.approx(4.0)
    assert btc.window == (Decimal(100),) * 4  # a stale mark is not appended


def test_windows_survive_a_restart_of_the_actor(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe)
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 100))
    _cycle(clock, probe, 1)  # ETH-USD has no mark: the timer runs the first cycle
    address.tell(Crash(RuntimeError("marks crashed")))
    address.tell(marks("BTC-USD", 101))
    wait_drained(address)  # the successor has taken 101
    sampled = _cycle(clock, probe, 2)
    assert address.incarnation == 2
    assert sampled.sample("BTC-USD").window == (Decimal(100), Decimal(101))


def test_changing_symbols_adds_and_removes_windows_without_losing_the_others(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    cfg = config()
    _start(system, probe, cfg)
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 100))
    address.tell(marks("ETH-USD", 10))
    _first_cycle(probe)
    plan = system.reload(evolve_market_data(cfg, symbols=("BTC-USD", "BIP-20DEC30-CDE")))
    assert plan.notified == ("bot/marks",)
    address.tell(marks("BIP-20DEC30-CDE", 7))
    sampled = _cycle(clock, probe, 2)
    assert [s.symbol for s in sampled.samples] == ["BTC-USD", "BIP-20DEC30-CDE"]
    assert sampled.sample("BTC-USD").window == (Decimal(100), Decimal(100))
    assert sampled.sample("BIP-20DEC30-CDE").window == (Decimal(7),)
    assert address.incarnation == 1


def test_changing_ma_lengths_re_trims_the_windows_in_place(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    cfg = config(symbols=("BTC-USD",), short_ma=2, long_ma=5)  # windows of 10
    _start(system, probe, cfg)
    address = system.address("bot/marks")
    address.tell(marks("BTC-USD", 1))
    _first_cycle(probe)
    for n in range(2, 11):
        address.tell(marks("BTC-USD", n))
        _cycle(clock, probe, n)
    system.reload(evolve_market_data(cfg, long_ma=3))  # windows of 8
    address.tell(marks("BTC-USD", 11))
    sampled = _cycle(clock, probe, 11)
    assert sampled.sample("BTC-USD").window == tuple(Decimal(n) for n in range(4, 12))


def test_concurrent_streaming_and_polling_never_corrupt_a_window(
    system: ActorSystem, clock: FakeClock, probe: Probe, marks: Marks
) -> None:
    _start(system, probe, config(symbols=("BTC-USD",), short_ma=2, long_ma=3, stale_after_s=60.0))
    address = system.address("bot/marks")
    stream, poll = range(1, 20_001), range(50_001, 50_501)
    start = threading.Barrier(2)

    def feed(sent: range, source: MarkSource) -> None:
        start.wait()
        for n in sent:
            address.tell(marks("BTC-USD", n, source))

    feeders = [
        threading.Thread(target=feed, args=(stream, MarkSource.STREAM)),
        threading.Thread(target=feed, args=(poll, MarkSource.POLL)),
    ]
    for feeder in feeders:
        feeder.start()
    samples = [_first_cycle(probe).sample("BTC-USD")]  # as the first mark arrives
    samples += [_cycle(clock, probe, cycle).sample("BTC-USD") for cycle in range(2, 21)]
    for feeder in feeders:
        feeder.join(10)
        assert not feeder.is_alive()
    wait_drained(address)
    samples.append(_cycle(clock, probe, 21).sample("BTC-USD"))
    window: tuple[Decimal, ...] = ()
    for sample in samples:
        # Each cycle appends exactly one mark (none while stale) and trims the oldest.
        grown = window if sample.stale else (*window, sample.window[-1])
        assert sample.window == grown[-8:]
        window = sample.window
        # Each source told its marks in rising order: within a source a window never goes
        # back, however the two interleave.
        for sent in (stream, poll):
            mine = [int(mark) for mark in window if int(mark) in sent]
            assert mine == sorted(mine), window
    last = samples[-1].window
    assert len(last) == 8
    assert last[-1] in (Decimal(stream[-1]), Decimal(poll[-1]))  # the last one told wins
    # 20,500 marks for one symbol conflated in the mailbox instead of queueing.
    assert system.inspect().find("bot/marks").mailbox_max_depth <= 3
