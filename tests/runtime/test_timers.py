from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import InvalidTimerError, RuntimeStoppedError
from perpsbot.runtime import (
    MAX_TIMER_S,
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from tests.runtime.conftest import Block, Crash


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
        assert len(fired) == 1  # one call for ten missed periods, and it is rescheduled
    finally:
        system.shutdown()


class BlockableTicker(Ticking):
    """Ticks every 10 s; can be blocked, so the watchdog abandons it with its timers armed."""

    def on_start(self) -> None:
        self.timers.every(10.0, Tick(f"every-{self.context.incarnation}"))
        self.probe.record(("start", self.context.incarnation))

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Block):
            message.entered.set()
            message.release.wait(10)
        else:
            super().on_receive(message)


def test_an_abandoned_incarnations_armed_timer_never_fires_into_its_successor(
    clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=1.0, watchdog_timeout_s=2.0)
    release = threading.Event()
    try:
        system.start(
            SupervisorSpec(
                name="root",
                children=[
                    ChildSpec(name="t", factory=lambda c: BlockableTicker(context=c, probe=probe))
                ],
            )
        )
        probe.wait_for_event(("start", 1))  # its timer is armed for 10 s
        ticker = system.address("root/t")
        block = Block(release)
        ticker.tell(block)
        assert block.entered.wait(5)
        for second in (1, 2, 3):  # pinged at 1 s, unanswered at 3 s: hung, timer still armed
            _advance_one_check(system, clock, second)
        assert system.watchdog.hung_reports == 1
        probe.wait_for_event(("start", 2))  # armed at 3 s for 13 s, before the clock moves on
        for second in range(4, 14):  # the abandoned timer comes due at 10 s, the new one at 13 s
            _advance_one_check(system, clock, second)
            wait_drained(ticker)  # answers the ping: a slow machine must not look hung
        probe.wait_for_event("every-2")
        wait_drained(ticker)
        assert "every-1" not in probe.events
        assert system.watchdog.hung_reports == 1
    finally:
        release.set()
        system.shutdown()


def _advance_one_check(system: ActorSystem, clock: FakeClock, n: int) -> None:
    """Advance one watchdog interval and wait until the scheduler has run check ``n``: every
    timer due by then has fired (the scheduler fires them in deadline order)."""
    clock.advance(1.0)
    eventually(lambda: system.watchdog.checks == n, what=f"watchdog check {n}")


@pytest.mark.parametrize("interval_s", [1e10, float("nan"), float("inf"), 0.0, -1.0])
def test_an_interval_out_of_bounds_is_refused_and_the_other_timers_keep_firing(
    clock: FakeClock, interval_s: float
) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    fired = threading.Event()
    try:
        with pytest.raises(InvalidTimerError, match=r"interval_s must be more than 0 and at most"):
            system.scheduler.call_every(interval_s, fired.set)
        with pytest.raises(InvalidTimerError, match=r"delay_s must be at least 0 and at most"):
            system.scheduler.call_later(interval_s if interval_s else -1.0, fired.set)
        system.scheduler.call_later(1.0, fired.set)
        clock.advance(1.0)
        assert fired.wait(5)
        assert system.scheduler.is_alive()
    finally:
        system.shutdown()


def test_an_absurd_watchdog_interval_is_refused_before_any_thread_starts() -> None:
    threads = set(threading.enumerate())
    with pytest.raises(
        InvalidTimerError, match=r"at most 31622400 seconds \(366 days\), was 10000000000\.0"
    ):
        ActorSystem("t", watchdog_interval_s=1e10)
    assert set(threading.enumerate()) == threads


class _SmallTimeoutClock(SystemClock):
    """The real clock on a platform that cannot wait longer than Windows can (49 days)."""

    def __init__(self) -> None:
        self.waits: list[float | None] = []

    def wait(self, condition: threading.Condition, timeout_s: float | None) -> None:
        self.waits.append(timeout_s)
        if timeout_s is not None and timeout_s > 4_294_967.0:
            raise OverflowError("timeout value is too large")
        condition.wait(timeout_s)


def test_a_timer_a_year_away_never_asks_the_clock_for_a_wait_it_cannot_do() -> None:
    clock = _SmallTimeoutClock()
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    soon = threading.Event()
    try:
        system.scheduler.call_later(MAX_TIMER_S, lambda: None)
        eventually(lambda: any(w is not None for w in clock.waits), what="a wait for the timer")
        assert max(w for w in clock.waits if w is not None) <= 4_294_967.0
        system.scheduler.call_later(0.0, soon.set)
        assert soon.wait(5)
        assert system.escalation is None
    finally:
        system.shutdown()


class _BreakableClock(FakeClock):
    """A fake clock whose waits fail once ``broken`` is set (what an OverflowError did)."""

    broken = False

    def wait(self, condition: threading.Condition, timeout_s: float | None) -> None:
        if self.broken:
            raise OverflowError("timeout value is too large")
        super().wait(condition, timeout_s)


def test_a_dead_timer_thread_escalates_the_system_and_refuses_new_timers(probe: Probe) -> None:
    clock = _BreakableClock()
    system = ActorSystem(
        "t", clock=clock, watchdog_interval_s=1.0, on_escalation=lambda r, e: probe.record(r)
    )
    try:
        clock.broken = True
        clock.advance(0.0)  # wakes the timer thread, whose next wait fails
        reason = system.wait_for_escalation(5)
        assert reason is not None
        assert "timer thread t-timers died: OverflowError" in reason
        probe.wait_for_event(reason)  # the host's handler heard it too
        assert system.inspect().escalated == reason
        eventually(lambda: not system.scheduler.is_alive(), what="the timer thread ended")
        with pytest.raises(RuntimeStoppedError, match="no timer will fire"):
            system.scheduler.call_later(1.0, lambda: None)
    finally:
        system.shutdown()


def test_a_driven_scheduler_fires_one_due_timer_at_a_time_in_deadline_order() -> None:
    clock = FakeClock()
    system = ActorSystem("driven", clock=clock, watchdog_interval_s=None, driven_timers=True)
    try:
        probe = Probe()
        _start(system, probe)
        assert system.scheduler.next_deadline() == pytest.approx(clock.monotonic() + 0.5)
        clock.advance(1.0)  # both the once (0.5 s) and the every (1 s) timer are due
        system.wait_idle()  # due timers of a driven scheduler wait for their driver
        assert probe.events == [("start", 1)]
        assert system.scheduler.fire_next()
        system.wait_idle()
        assert probe.events == [("start", 1), "once-1"]
        assert system.scheduler.fire_next()
        system.wait_idle()
        assert probe.events == [("start", 1), "once-1", "every-1"]
        assert not system.scheduler.fire_next()
        assert system.scheduler.next_deadline() == pytest.approx(clock.monotonic() + 1.0)
    finally:
        system.shutdown()
