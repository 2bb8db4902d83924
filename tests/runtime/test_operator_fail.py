"""``ActorSystem.fail(path, reason)``: an actor made to fail from outside, as a real failure."""

from __future__ import annotations

import threading

import pytest

from perpsbot.errors import ActorNotFoundError
from perpsbot.runtime import ActorSystem, Intensity, RestartStrategy, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually
from tests.runtime.conftest import Add, Block, recorder


def _start(system: ActorSystem, probe: Probe, *, max_restarts: int = 5) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            strategy=RestartStrategy.REST_FOR_ONE,
            intensity=Intensity(max_restarts=max_restarts, window_s=60.0),
            children=[recorder(name, probe) for name in ("a", "b", "c")],
        )
    )
    probe.wait_for(lambda events: len(events) == 3, what="three starts")


def test_a_failed_actor_is_restarted_by_its_supervisor_as_after_any_failure(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe)
    system.address("root/b").tell(Add(5))
    assert system.address("root/b").ask("total", timeout_s=5) == 5

    assert system.fail("root/b", "drill") == 1

    probe.wait_for_event(("start", "root/c", 2))  # rest_for_one: a failure restarts c too
    b = system.inspect().find("root/b")
    assert (b.incarnation, b.failures, b.restarts) == (2, 1, 1)
    assert system.address("root/b").ask("total", timeout_s=5) == 5  # snapshot handed over
    assert system.dead_letters.count("root/b") == 0  # no user message was lost
    assert ("stop", "root/b", 1) not in probe.events  # it failed: no orderly on_stop


def test_failures_on_request_count_toward_the_restart_intensity(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe, max_restarts=1)
    system.fail("root/a", "drill 1")
    probe.wait_for_event(("start", "root/a", 2))
    assert system.escalation is None

    system.fail("root/a", "drill 2")

    reason = system.wait_for_escalation(timeout_s=5)
    assert reason is not None
    assert "more than 1 restarts within 60.0s" in reason
    assert "root/a failed on request: drill 2" in reason


def test_a_failure_overtakes_queued_work_which_waits_for_the_successor(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe)
    a = system.address("root/a")
    busy = Block(release=threading.Event())
    a.tell(busy)
    assert busy.entered.wait(5)
    for n in (1, 2, 3):
        a.tell(Add(n))
    failed: list[int] = []
    asking = threading.Thread(target=lambda: failed.append(system.fail("root/a", "wedged")))
    asking.start()
    eventually(lambda: system.inspect().find("root/a").mailbox_depth == 4, what="fail queued")

    busy.release.set()
    asking.join(5)

    assert failed == [1]
    probe.wait_for_event(("add", "root/a", 2, 3))
    adds = [e for e in probe.events if e[0] == "add"]
    assert adds == [("add", "root/a", 2, 1), ("add", "root/a", 2, 2), ("add", "root/a", 2, 3)]


def test_failing_an_unknown_or_root_path_is_a_clear_error(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe)
    with pytest.raises(ActorNotFoundError, match=r"no running actor at 'root/z'; running: \["):
        system.fail("root/z", "drill")
    with pytest.raises(ActorNotFoundError, match="root supervisor"):
        system.fail("root", "drill")
    assert system.inspect().find("root/a").failures == 0
