from __future__ import annotations

import threading

import pykka
import pytest

from perpsbot.clock import FakeClock
from perpsbot.runtime import (
    ActorSystem,
    Backoff,
    BaseActor,
    ChildSpec,
    Intensity,
    Restart,
    RestartStrategy,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe, eventually, wait_idle
from tests.runtime.conftest import Add, Block, BlockThenCrash, Crash, recorder

NAMES = ("a", "b", "c")


def _tree(
    system: ActorSystem, probe: Probe, strategy: RestartStrategy, intensity: Intensity | None = None
) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            strategy=strategy,
            intensity=intensity or Intensity(),
            children=[recorder(name, probe) for name in NAMES],
        )
    )
    probe.wait_for(lambda events: len(events) == 3, what="three starts")


def _starts(probe: Probe, incarnation: int) -> list[str]:
    return [e[1] for e in probe.events if e[0] == "start" and e[2] == incarnation]


def test_children_start_in_order_and_stop_in_reverse_order(
    system: ActorSystem, probe: Probe
) -> None:
    _tree(system, probe, RestartStrategy.ONE_FOR_ONE)
    system.shutdown()
    assert probe.events == [
        ("start", "root/a", 1),
        ("start", "root/b", 1),
        ("start", "root/c", 1),
        ("stop", "root/c", 1),
        ("stop", "root/b", 1),
        ("stop", "root/a", 1),
    ]


def test_one_for_one_restarts_only_the_failed_child(system: ActorSystem, probe: Probe) -> None:
    _tree(system, probe, RestartStrategy.ONE_FOR_ONE)
    system.address("root/b").tell(Crash(RuntimeError("b fails")))
    probe.wait_for_event(("start", "root/b", 2))
    system.address("root/b").tell(Add(1))
    probe.wait_for_event(("add", "root/b", 2, 1))
    assert _starts(probe, 2) == ["root/b"]
    assert [e for e in probe.events if e[0] == "stop"] == []


def test_rest_for_one_restarts_exactly_the_later_siblings(
    system: ActorSystem, probe: Probe
) -> None:
    _tree(system, probe, RestartStrategy.REST_FOR_ONE)
    system.address("root/b").tell(Crash(RuntimeError("b fails")))
    probe.wait_for_event(("start", "root/c", 2))
    system.address("root/a").tell(Add(1))
    probe.wait_for_event(("add", "root/a", 1, 1))
    assert _starts(probe, 2) == ["root/b", "root/c"]
    assert [e for e in probe.events if e[0] == "stop"] == [("stop", "root/c", 1)]


def test_one_for_all_restarts_every_child_in_order(system: ActorSystem, probe: Probe) -> None:
    _tree(system, probe, RestartStrategy.ONE_FOR_ALL)
    system.address("root/b").tell(Crash(RuntimeError("b fails")))
    probe.wait_for_event(("start", "root/c", 2))
    assert _starts(probe, 2) == ["root/a", "root/b", "root/c"]
    assert [e[1] for e in probe.events if e[0] == "stop"] == ["root/c", "root/a"]


def test_exceeding_the_restart_intensity_escalates_exactly_once(probe: Probe) -> None:
    escalations: list[str] = []
    escalated = threading.Event()

    def on_escalation(reason: str, error: BaseException | None) -> None:
        escalations.append(reason)
        escalated.set()

    host = pykka.ThreadingActor.start()
    system = ActorSystem("t", watchdog_interval_s=None, on_escalation=on_escalation)
    try:
        _tree(system, probe, RestartStrategy.ONE_FOR_ONE, Intensity(max_restarts=2, window_s=60))
        for incarnation in (1, 2):
            system.address("root/a").tell(Crash(RuntimeError(f"fail {incarnation}")))
            probe.wait_for_event(("start", "root/a", incarnation + 1))
        system.address("root/a").tell(Crash(RuntimeError("fail 3")))
        assert escalated.wait(5)
        # Children are stopped in reverse order before the host is told.
        stops = [e[1] for e in probe.events if e[0] == "stop"]
        assert stops == ["root/c", "root/b"]  # root/a had just failed: nothing to stop
        for name in NAMES:
            system.address(f"root/{name}").tell(Add(1))  # dead letters now, not restarts
        eventually(lambda: system.dead_letters.count("root/c") >= 1)
        assert len(escalations) == 1
        assert "more than 2 restarts within 60" in escalations[0]
        assert system.inspect().escalated is not None
        assert host.is_alive()
    finally:
        system.shutdown()
        host.stop()


def test_a_nested_supervisor_restarts_its_own_children(system: ActorSystem, probe: Probe) -> None:
    inner = SupervisorSpec(name="inner", children=[recorder("leaf", probe)])
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe), inner.as_child()]))
    probe.wait_for_event(("start", "root/inner/leaf", 1))
    system.address("root/inner/leaf").tell(Crash(RuntimeError("leaf fails")))
    probe.wait_for_event(("start", "root/inner/leaf", 2))
    assert system.address("root/inner").incarnation == 1
    assert system.address("root/a").incarnation == 1


def test_an_escalating_nested_supervisor_is_restarted_by_its_parent(
    system: ActorSystem, probe: Probe
) -> None:
    inner = SupervisorSpec(
        name="inner",
        intensity=Intensity(max_restarts=0, window_s=60),
        children=[recorder("leaf", probe)],
    )
    system.start(SupervisorSpec(name="root", children=[inner.as_child()]))
    probe.wait_for_event(("start", "root/inner/leaf", 1))
    leaf = system.address("root/inner/leaf")
    leaf.tell(Crash(RuntimeError("leaf fails")))
    probe.wait_for_event(("start", "root/inner/leaf", 2))
    assert system.address("root/inner").incarnation == 2
    leaf.tell(Add(7))  # the address kept from before still reaches the new leaf
    probe.wait_for_event(("add", "root/inner/leaf", 2, 7))


def test_a_temporary_child_is_not_restarted(system: ActorSystem, probe: Probe) -> None:
    system.start(
        SupervisorSpec(name="root", children=[recorder("once", probe, restart=Restart.TEMPORARY)])
    )
    probe.wait_for_event(("start", "root/once", 1))
    once = system.address("root/once")
    once.tell(Crash(RuntimeError("gone")))
    wait_idle(system)
    assert not once.is_alive()
    once.tell(Add(1))
    assert system.dead_letters.count("root/once") == 2  # the crash, and the add at once
    assert ("start", "root/once", 2) not in probe.events


def test_a_transient_child_is_restarted_after_a_failure(system: ActorSystem, probe: Probe) -> None:
    system.start(
        SupervisorSpec(name="root", children=[recorder("t", probe, restart=Restart.TRANSIENT)])
    )
    probe.wait_for_event(("start", "root/t", 1))
    system.address("root/t").tell(Crash(RuntimeError("fails")))
    probe.wait_for_event(("start", "root/t", 2))


def test_consecutive_restarts_wait_for_the_backoff(clock: FakeClock, probe: Probe) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    try:
        backoff = Backoff(initial_s=1.0, max_s=8.0, jitter=0.0)
        system.start(SupervisorSpec(name="root", children=[recorder("a", probe, backoff=backoff)]))
        probe.wait_for_event(("start", "root/a", 1))
        worker = system.address("root/a")
        worker.tell(Crash(RuntimeError("first")))
        probe.wait_for_event(("start", "root/a", 2))  # the first restart is immediate
        worker.tell(Crash(RuntimeError("second")))
        wait_idle(system)
        assert system.scheduler.pending() == 1  # a backoff timer
        assert ("start", "root/a", 3) not in probe.events
        clock.advance(0.5)
        worker.tell(Add(1))  # buffered meanwhile
        assert ("start", "root/a", 3) not in probe.events
        clock.advance(0.5)
        probe.wait_for_event(("add", "root/a", 3, 1))
    finally:
        system.shutdown()


def test_backoff_delays_double_up_to_the_maximum() -> None:
    backoff = Backoff(initial_s=0.1, max_s=0.5, jitter=0.0)
    rng = __import__("random").Random(1)
    assert [backoff.delay_s(n, rng) for n in range(6)] == [0.0, 0.1, 0.2, 0.4, 0.5, 0.5]


def test_duplicate_child_names_are_rejected(probe: Probe) -> None:
    with pytest.raises(ValueError, match=r"duplicate child names: \['a'\]"):
        SupervisorSpec(name="root", children=[recorder("a", probe), recorder("a", probe)])


def test_a_sibling_that_fails_while_being_stopped_leaves_no_stop_for_its_successor(
    system: ActorSystem, probe: Probe
) -> None:
    _tree(system, probe, RestartStrategy.ONE_FOR_ALL)
    block = Block(threading.Event())
    system.address("root/b").tell(BlockThenCrash(block, RuntimeError("b fails too")))
    assert block.entered.wait(5)
    system.address("root/a").tell(Crash(RuntimeError("a fails")))
    # The supervisor now waits for b to stop; b fails instead once released.
    eventually(lambda: system.inspect().find("root/b").mailbox_depth == 1, what="stop queued")
    block.release.set()
    probe.wait_for_event(("start", "root/b", 2))
    system.address("root/b").tell(Add(1))
    probe.wait_for_event(("add", "root/b", 2, 1))  # not stopped by the stale stop
    assert system.address("root/b").incarnation == 2


def test_messages_beyond_the_restart_buffer_are_dead_letters(
    clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    try:
        backoff = Backoff(initial_s=10.0, max_s=10.0, jitter=0.0)
        spec = recorder("a", probe, backoff=backoff, restart_buffer=5)
        system.start(SupervisorSpec(name="root", children=[spec]))
        probe.wait_for_event(("start", "root/a", 1))
        worker = system.address("root/a")
        worker.tell(Crash(RuntimeError("first")))
        probe.wait_for_event(("start", "root/a", 2))
        worker.tell(Crash(RuntimeError("second")))  # the next restart waits 10 s
        wait_idle(system)
        assert system.scheduler.pending() == 1  # a backoff timer
        for n in range(8):
            worker.tell(Add(n))
        reasons = [d.reason for d in system.dead_letters.recent()]
        assert reasons.count("restart buffer full (5)") == 3
        clock.advance(10.0)
        probe.wait_for(lambda events: sum(1 for e in events if e[0] == "add") == 5)
        assert [e[3] for e in probe.events if e[0] == "add"] == [0, 1, 2, 3, 4]
    finally:
        system.shutdown()


def test_a_transient_child_that_stops_itself_stays_stopped(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(
        SupervisorSpec(name="root", children=[recorder("t", probe, restart=Restart.TRANSIENT)])
    )
    probe.wait_for_event(("start", "root/t", 1))
    system.address("root/t").tell("stop yourself")
    wait_idle(system)
    assert not system.address("root/t").is_alive()  # closed for good
    assert probe.events == [("start", "root/t", 1), ("stop", "root/t", 1)]


def test_a_permanent_child_that_stops_itself_is_started_again(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("p", probe)]))
    probe.wait_for_event(("start", "root/p", 1))
    system.address("root/p").tell("stop yourself")
    probe.wait_for_event(("start", "root/p", 2))


def test_a_child_can_tell_a_later_sibling_before_that_sibling_has_started(
    system: ActorSystem, probe: Probe
) -> None:
    class Early(BaseActor):
        def on_start(self) -> None:
            self.context.system.address("top/late").tell(Add(n=7))

    system.start(
        SupervisorSpec(
            name="top",
            children=[
                ChildSpec(name="early", factory=lambda ctx: Early(context=ctx)),
                recorder("late", probe),
            ],
        )
    )

    probe.wait_for_event(("add", "top/late", 1, 7))
    assert system.inspect().find("top/early").failures == 0  # its first start addressed "late"
    assert probe.events.index(("start", "top/late", 1)) < probe.events.index(
        ("add", "top/late", 1, 7)
    )
