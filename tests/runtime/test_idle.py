"""``ActorSystem.wait_idle`` (and ``testing.wait_idle``): it returns only once nothing moves.

Real threads and a real actor system on a fake clock; handlers block on events the test
releases, so an actor is provably busy while the test asks.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import ActorSystemBusyError
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ActorSystem,
    Backoff,
    BaseActor,
    ChildSpec,
    Scheduler,
    SupervisorSpec,
)
from perpsbot.runtime._idle import IdleSignal
from perpsbot.runtime.testing import Probe, probe_child, wait_idle
from tests.runtime.conftest import Add, Block, BlockThenCrash, Crash, recorder


@attrs.frozen
class Hop:
    left: int


@attrs.frozen
class Later:
    delay_s: float


class Relay(BaseActor):
    """Tells ``Hop(left - 1)`` on to ``to``, or records the hop that reached 0; a ``Later``
    sets a timer that tells itself ``Hop(1)``."""

    def __init__(self, *, context: ActorContext, to: ActorAddress, probe: Probe) -> None:
        super().__init__(context=context)
        self._to = to
        self._probe = probe

    def on_receive(self, message: Any) -> None:
        match message:
            case Hop(left=0):
                self._probe.record(("arrived", self.address.path))
            case Hop(left=left):
                self._to.tell(Hop(left=left - 1))
            case Later(delay_s=delay_s):
                self.timers.once(delay_s, Hop(left=1))
            case _:
                self.unhandled(message)


def _relays(probe: Probe) -> SupervisorSpec:
    """root/a and root/b tell hops to each other."""

    def relay(name: str, to: str) -> ChildSpec:
        return ChildSpec(
            name=name,
            factory=lambda ctx: Relay(
                context=ctx, to=ctx.system.address(f"root/{to}"), probe=probe
            ),
        )

    return SupervisorSpec(name="root", children=[relay("a", "b"), relay("b", "a")])


def test_wait_idle_returns_once_messages_bouncing_between_actors_have_all_been_handled(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/a").tell(Hop(left=501))  # 501 hands from a to b and back; ends at b

    wait_idle(system)

    assert probe.events == [("arrived", "root/b")]


def test_wait_idle_after_a_clock_advance_returns_once_the_due_timers_and_their_effects_ran(
    system: ActorSystem, clock: FakeClock, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/a").tell(Later(delay_s=5.0))
    wait_idle(system)  # the timer is set and not due: idle
    assert probe.events == []

    clock.advance(5.0)
    wait_idle(system)

    assert probe.events == [("arrived", "root/b")]  # fired at a, handled by b


def test_an_actor_in_a_handler_keeps_the_system_busy_and_is_named(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    wedge = Block(release=threading.Event())
    a.tell(wedge)
    assert wedge.entered.wait(5)
    try:
        with pytest.raises(ActorSystemBusyError, match=r"root/a \(in a handler\)"):
            system.wait_idle(timeout_s=0.1)
        a.tell(Add(1))
        a.tell(Add(2))
        with pytest.raises(AssertionError, match=r"must be idle within 0\.1s.*root/a \(2 queued\)"):
            wait_idle(system, timeout_s=0.1)
    finally:
        wedge.release.set()

    wait_idle(system)

    assert [e for e in probe.events if e[0] == "add"] == [
        ("add", "root/a", 1, 1),
        ("add", "root/a", 1, 2),
    ]


def test_a_timer_callback_that_runs_keeps_the_system_busy(system: ActorSystem) -> None:
    running, release = threading.Event(), threading.Event()

    def slow_callback() -> None:
        running.set()
        release.wait(10)

    system.scheduler.call_later(0, slow_callback)
    assert running.wait(5)
    try:
        with pytest.raises(ActorSystemBusyError, match=r"1 timer\(s\) due or firing"):
            system.wait_idle(timeout_s=0.1)
    finally:
        release.set()
    system.wait_idle()


def test_a_scheduler_counts_a_timer_due_once_the_clock_reaches_it_until_it_fires() -> None:
    clock = FakeClock()
    scheduler = Scheduler(clock)  # not started: nothing fires what comes due
    scheduler.call_later(2.0, lambda: None)
    scheduler.call_later(9.0, lambda: None)
    assert scheduler.due() == 0
    clock.advance(2.0)
    assert scheduler.due() == 1
    clock.advance(7.0)
    assert scheduler.due() == 2


def test_an_actor_waiting_out_its_restart_backoff_leaves_the_system_idle_until_the_clock_moves(
    system: ActorSystem, clock: FakeClock, probe: Probe
) -> None:
    backoff = Backoff(initial_s=3.0, max_s=3.0, jitter=0.0)
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe, backoff=backoff)]))
    a = system.address("root/a")
    a.tell(Crash(error=RuntimeError("first")))  # the first restart is at once
    wait_idle(system)
    assert ("start", "root/a", 2) in probe.events
    doomed = BlockThenCrash(block=Block(release=threading.Event()), error=RuntimeError("again"))
    a.tell(doomed)
    assert doomed.block.entered.wait(5)
    a.tell(Add(7))  # waits for the successor
    doomed.block.release.set()

    wait_idle(system)  # crashed again, and this restart waits 3 s on the fake clock
    assert ("start", "root/a", 3) not in probe.events

    clock.advance(3.0)
    wait_idle(system)

    assert probe.events[-2:] == [("start", "root/a", 3), ("add", "root/a", 3, 7)]


def test_a_probe_child_has_every_message_once_the_system_is_idle(system: ActorSystem) -> None:
    probe = Probe()
    system.start(SupervisorSpec(name="root", children=[probe_child("sink", probe)]))
    for n in range(100):
        system.address("root/sink").tell(Add(n))

    wait_idle(system)

    assert probe.events == [Add(n) for n in range(100)]


def test_an_idle_signal_wakes_its_waiter_when_something_settles_after_its_look() -> None:
    signal = IdleSignal()
    signal.watch()
    seen = signal.generation()  # a waiter reads the generation, then looks
    woken = threading.Event()

    def wait() -> None:
        signal.wait_past(seen, 30.0)
        woken.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    signal.settled()

    assert woken.wait(5)  # long before the 30 s it would otherwise wait
    waiter.join(5)
    assert signal.generation() == seen + 1


def test_an_idle_signal_returns_at_once_for_a_settle_between_the_look_and_the_wait() -> None:
    signal = IdleSignal()
    signal.watch()
    seen = signal.generation()
    signal.settled()  # after the look, before the waiter sleeps: not lost

    done = threading.Event()
    waiter = threading.Thread(target=lambda: (signal.wait_past(seen, 30.0), done.set()))
    waiter.start()

    assert done.wait(5)
    waiter.join(5)


def test_an_idle_signal_nobody_watches_counts_nothing() -> None:
    signal = IdleSignal()
    signal.settled()
    assert signal.generation() == 0
    signal.watch()
    signal.unwatch()
    signal.settled()
    assert signal.generation() == 0


@pytest.mark.parametrize("driven", [True, False])
def test_a_timer_callback_that_ends_tells_the_scheduler_settle_hook(driven: bool) -> None:
    clock = FakeClock()
    settled = threading.Event()
    scheduler = Scheduler(clock, driven=driven, on_settled=settled.set)
    fired = threading.Event()
    scheduler.call_later(1.0, fired.set)
    scheduler.start()
    try:
        clock.advance(1.0)
        if driven:
            assert scheduler.fire_next()
        assert fired.wait(5)
        assert settled.wait(5)
    finally:
        scheduler.stop()
