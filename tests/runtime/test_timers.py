from __future__ import annotations

import threading
from typing import Any

import attrs

from perpsbot.clock import FakeClock
from perpsbot.runtime import ActorContext, ActorSystem, BaseActor, ChildSpec, SupervisorSpec
from tests.runtime.conftest import Crash
from tests.support.probe import Probe
from tests.support.waiting import eventually


@attrs.frozen
class Tick:
    label: str


class Ticking(BaseActor):
    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self.probe = probe

    def on_start(self) -> None:
        self.timers.every(1.0, Tick(f"every-{self.context.incarnation}"))
        self.timers.once(0.5, Tick(f"once-{self.context.incarnation}"))
        self.probe.record(("start", self.context.incarnation))

    def on_receive(self, message: Any) -> None:
        match message:
            case Tick(label=label):
                self.probe.record(label)
            case Crash(error=error):
                raise error
            case _:
                self.unhandled(message)


def _start(system: ActorSystem, probe: Probe) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            children=[ChildSpec(name="t", factory=lambda c: Ticking(context=c, probe=probe))],
        )
    )
    probe.wait_for_event(("start", 1))


def test_timers_fire_at_their_deadlines_on_the_injected_clock(
    system: ActorSystem, clock: FakeClock, probe: Probe
) -> None:
    _start(system, probe)
    clock.advance(0.5)
    probe.wait_for_event("once-1")
    assert "every-1" not in probe.events
    clock.advance(0.5)
    probe.wait_for_event("every-1")
    clock.advance(1.0)
    probe.wait_for(lambda events: events.count("every-1") == 2)
    assert probe.events.count("once-1") == 1


def test_timers_of_a_dead_incarnation_never_fire_into_its_successor(
    system: ActorSystem, clock: FakeClock, probe: Probe
) -> None:
    _start(system, probe)
    system.address("root/t").tell(Crash(RuntimeError("die")))
    probe.wait_for_event(("start", 2))
    for n in range(1, 4):
        clock.advance(1.0)
        probe.wait_for(lambda events, n=n: events.count("every-2") == n)
    assert "every-1" not in probe.events
    assert "once-1" not in probe.events


def test_an_interval_timer_skips_ticks_it_missed_instead_of_bursting(clock: FakeClock) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    fired: list[float] = []
    done = threading.Event()

    def tick() -> None:
        fired.append(clock.monotonic())
        done.set()

    try:
        system.scheduler.call_every(1.0, tick)
        clock.advance(10.0)
        assert done.wait(5)
        eventually(lambda: system.scheduler.pending() == 1)
        assert len(fired) == 1
    finally:
        system.shutdown()
