from __future__ import annotations

import threading

from perpsbot.clock import FakeClock
from perpsbot.runtime import ActorSystem, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from tests.runtime.conftest import Add, Block, recorder


def test_a_ping_to_a_blocked_actor_reports_it_hung_and_a_successor_takes_over(
    clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=1.0, watchdog_timeout_s=2.0)
    release = threading.Event()
    try:
        system.start(SupervisorSpec(name="root", children=[recorder("slow", probe)]))
        probe.wait_for_event(("start", "root/slow", 1))
        slow = system.address("root/slow")
        block = Block(release)
        slow.tell(block)
        slow.tell(Add(1))  # queued behind the blocked handler
        assert block.entered.wait(5)
        clock.advance(1.0)  # ping sent
        eventually(lambda: system.inspect().find("root/slow").mailbox_depth == 2)
        clock.advance(1.0)  # not yet past the timeout
        eventually(lambda: system.watchdog.checks == 2, what="the second check")
        assert system.watchdog.hung_reports == 0
        clock.advance(1.0)  # past it: hung
        probe.wait_for_event(("start", "root/slow", 2))
        probe.wait_for_event(("add", "root/slow", 2, 1))
        assert system.watchdog.hung_reports == 1
        snapshot = system.inspect().find("root/slow")
        assert (snapshot.failures, snapshot.restarts) == (1, 1)
    finally:
        release.set()
        system.shutdown()


def test_a_responsive_actor_is_never_reported_hung(clock: FakeClock, probe: Probe) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=1.0, watchdog_timeout_s=2.0)
    try:
        system.start(SupervisorSpec(name="root", children=[recorder("quick", probe)]))
        probe.wait_for_event(("start", "root/quick", 1))
        quick = system.address("root/quick")
        for n in range(1, 11):
            clock.advance(1.0)
            eventually(lambda n=n: system.watchdog.checks == n, what=f"watchdog check {n}")
            wait_drained(quick)  # it has answered the ping before the clock moves on
        assert system.watchdog.hung_reports == 0
        assert system.address("root/quick").incarnation == 1
    finally:
        system.shutdown()


def test_an_actor_with_a_longer_hang_timeout_may_block_that_long(
    clock: FakeClock, probe: Probe
) -> None:
    system = ActorSystem("t", clock=clock, watchdog_interval_s=1.0, watchdog_timeout_s=2.0)
    release = threading.Event()
    try:
        spec = recorder("rest", probe, hang_timeout_s=10.0)
        system.start(SupervisorSpec(name="root", children=[spec]))
        probe.wait_for_event(("start", "root/rest", 1))
        block = Block(release)
        system.address("root/rest").tell(block)
        assert block.entered.wait(5)
        for n in range(1, 11):  # pinged at 1 s; 9 s unanswered: past the system's 2 s, not 10 s
            clock.advance(1.0)
            eventually(lambda n=n: system.watchdog.checks == n, what=f"watchdog check {n}")
        assert system.watchdog.hung_reports == 0
        clock.advance(1.0)  # 10 s unanswered: now it is hung
        probe.wait_for_event(("start", "root/rest", 2))
        assert system.watchdog.hung_reports == 1
    finally:
        release.set()
        system.shutdown()
