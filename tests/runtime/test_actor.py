from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest

from perpsbot.errors import AskTimeoutError
from perpsbot.runtime import ActorSystem, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually
from tests.runtime.conftest import Add, Block, Crash, recorder


def _start_one(system: ActorSystem, probe: Probe, **spec: Any) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("worker", probe, **spec)]))
    probe.wait_for_event(("start", "root/worker", 1))


def test_after_a_crash_in_a_told_message_the_next_message_is_handled_by_the_new_incarnation(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    worker.tell(Add(1))
    worker.tell(Crash(RuntimeError("bad tick")))
    worker.tell(Add(2))
    probe.wait_for_event(("add", "root/worker", 2, 2))
    assert ("add", "root/worker", 1, 2) not in probe.events
    assert worker.incarnation == 2


def test_the_message_whose_handler_raised_is_a_dead_letter_with_its_exception(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    error = RuntimeError("bad tick")
    system.address("root/worker").tell(Crash(error))
    letter = eventually(system.dead_letters.recent, what="a dead letter")[0]
    assert letter.recipient == "root/worker"
    assert letter.message == Crash(error)
    assert letter.error is error
    probe.wait_for_event(("start", "root/worker", 2))
    assert probe.events.count(("start", "root/worker", 2)) == 1  # never retried


def test_state_handed_over_survives_a_restart(system: ActorSystem, probe: Probe) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    worker.tell(Add(40))
    worker.tell(Crash(ValueError("boom")))
    worker.tell(Add(2))
    probe.wait_for_event(("add", "root/worker", 2, 2))
    assert system.state("root/worker") == {"total": 42}


def test_messages_told_while_restarting_reach_the_successor(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    worker.tell(Crash(RuntimeError("down")))
    for n in range(100):
        worker.tell(Add(n))
    probe.wait_for(lambda events: sum(1 for e in events if e[0] == "add") == 100)
    assert system.state("root/worker") == {"total": sum(range(100))}


def test_a_failure_in_on_start_is_reported_and_restarted(system: ActorSystem, probe: Probe) -> None:
    _start_one(system, probe, fail_on_start=1)
    probe.wait_for_event(("start", "root/worker", 2))
    worker = system.address("root/worker")
    worker.tell(Add(5))
    probe.wait_for_event(("add", "root/worker", 2, 5))
    assert system.inspect().find("root/worker").failures == 1


def test_a_message_without_a_handler_is_a_dead_letter_and_the_actor_goes_on(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    worker.tell("what is this")
    worker.tell(Add(1))
    probe.wait_for_event(("add", "root/worker", 1, 1))
    assert system.dead_letters.count("root/worker") == 1
    assert system.dead_letters.recent()[0].reason == "no handler for str"


def test_ask_returns_the_reply_and_a_failed_ask_goes_back_to_the_asker(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    worker.tell(Add(3))
    assert worker.ask("total", timeout_s=5) == 3
    with pytest.raises(KeyError):
        worker.ask(Crash(KeyError("asked")), timeout_s=5)
    assert worker.incarnation == 1  # like pykka, a failed ask does not stop the actor


def test_ask_with_a_timeout_raises_when_the_actor_is_busy(
    system: ActorSystem, probe: Probe
) -> None:
    _start_one(system, probe)
    worker = system.address("root/worker")
    release = threading.Event()
    worker.tell(Block(release))
    with pytest.raises(AskTimeoutError, match=r"did not answer str within 0\.05s"):
        worker.ask("total", timeout_s=0.05)
    release.set()


class _HostActor(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return ("host", message)


def test_a_system_exit_in_a_child_leaves_a_host_actor_running(
    system: ActorSystem, probe: Probe
) -> None:
    host = _HostActor.start()
    try:
        _start_one(system, probe)
        system.address("root/worker").tell(Crash(SystemExit(2)))
        probe.wait_for_event(("start", "root/worker", 2))
        assert host.is_alive()
        assert host.ask("still there?", timeout=5) == ("host", "still there?")
    finally:
        host.stop()


def test_a_base_exception_in_a_child_leaves_a_host_actor_running(
    system: ActorSystem, probe: Probe
) -> None:
    host = _HostActor.start()
    try:
        _start_one(system, probe)
        system.address("root/worker").tell(Crash(KeyboardInterrupt()))
        probe.wait_for_event(("start", "root/worker", 2))
        assert host.ask("ping", timeout=5) == ("host", "ping")
    finally:
        host.stop()
