from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs
import pykka
import pytest
from freezegun import freeze_time

from perpsbot.errors import ActorNotFoundError, AskTimeoutError, RuntimeStoppedError
from perpsbot.runtime import (
    ActorSystem,
    FifoMailbox,
    Intensity,
    SupervisorSpec,
    default_sections,
)
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Add, Block, Crash, recorder


def _one(system: ActorSystem, probe: Probe, name: str = "worker") -> None:
    system.start(SupervisorSpec(name="root", children=[recorder(name, probe)]))
    probe.wait_for_event(("start", f"root/{name}", 1))


def test_two_systems_live_in_one_process_and_shut_down_separately(probe: Probe) -> None:
    first = ActorSystem("first", watchdog_interval_s=None)
    second = ActorSystem("second", watchdog_interval_s=None)
    try:
        _one(first, probe)
        other = Probe()
        _one(second, other)
        first.shutdown()
        assert not first.address("root/worker").is_alive()
        second.address("root/worker").tell(Add(3))
        other.wait_for_event(("add", "root/worker", 1, 3))
        assert second.address("root/worker").ask("total", timeout_s=5) == 3
    finally:
        first.shutdown()
        second.shutdown()


class _Host(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return message


def test_a_host_application_actor_outlives_our_crashes_escalation_and_shutdown(
    probe: Probe,
) -> None:
    host = _Host.start()
    system = ActorSystem("embedded", watchdog_interval_s=None)
    try:
        system.start(
            SupervisorSpec(
                name="root",
                intensity=Intensity(max_restarts=0),
                children=[recorder("worker", probe)],
            )
        )
        probe.wait_for_event(("start", "root/worker", 1))
        system.address("root/worker").tell(Crash(SystemExit(1)))
        assert system.wait_for_escalation(5) is not None
        system.shutdown()
        assert host.ask("alive", timeout=5) == "alive"
        assert pykka.ActorRegistry.get_all() == [host]  # ours were never in pykka's registry
    finally:
        system.shutdown()
        host.stop()


def test_inspect_gives_a_frozen_snapshot_with_per_actor_statistics(
    system: ActorSystem, probe: Probe
) -> None:
    _one(system, probe)
    worker = system.address("root/worker")
    for n in range(3):
        worker.tell(Add(n))
    worker.tell(Crash(RuntimeError("x")))
    worker.tell(Add(10))
    probe.wait_for_event(("add", "root/worker", 2, 10))
    snapshot = system.inspect()
    actor = snapshot.find("root/worker")
    assert (actor.handled, actor.restarts, actor.failures, actor.incarnation) == (4, 1, 1, 2)
    assert actor.dead_letters == 1
    assert actor.mailbox_max_depth >= 1
    assert actor.last_message_age_s is not None
    assert [a.path for a in snapshot.walk()] == ["root", "root/worker"]
    assert "worker" in snapshot.format()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        actor.handled = 0  # type: ignore[misc]


def test_state_returns_a_copy_that_cannot_change_the_actor(
    system: ActorSystem, probe: Probe
) -> None:
    _one(system, probe)
    state = system.state("root/worker")
    state["total"] = 99
    assert system.state("root/worker") == {"total": 0}


def test_asking_an_unknown_or_stopped_actor_says_so(system: ActorSystem, probe: Probe) -> None:
    _one(system, probe)
    with pytest.raises(ActorNotFoundError, match="no actor at 'root/nobody'"):
        system.state("root/nobody")
    system.shutdown()
    with pytest.raises(ActorNotFoundError, match="root/worker is stopped"):
        system.state("root/worker")
    with pytest.raises(RuntimeStoppedError, match="is shut down"):
        system.start(SupervisorSpec(name="again", children=[]))


def test_messages_left_at_shutdown_are_dead_letters(system: ActorSystem, probe: Probe) -> None:
    _one(system, probe)
    system.shutdown()
    system.address("root/worker").tell(Add(1))
    assert system.dead_letters.count("root/worker") == 1
    assert system.dead_letters.recent()[-1].reason == "actor stopped"


def test_default_sections_split_an_attrs_config_by_field() -> None:
    @attrs.frozen
    class Config:
        risk: int = 1
        journal: str = "x"

    assert default_sections(Config()) == {"risk": 1, "journal": "x"}
    assert default_sections({"a": 1}) == {"a": 1}
    assert default_sections(None) == {}
    with pytest.raises(TypeError, match="must be an attrs instance or a mapping, was int"):
        default_sections(3)


class _RacyMailbox(FifoMailbox):
    """Runs ``race`` once, just before the next message is queued: another thread's close
    landing between a sender's ``accepting`` check and its append."""

    race: Callable[[], Any] | None = None

    def _run_race(self) -> None:
        race, self.race = self.race, None
        if race is not None:
            race()

    def tell(self, message: Any) -> None:
        self._run_race()
        super().tell(message)

    def put(self, envelope: Any, /) -> None:
        self._run_race()
        super().put(envelope)


def _racy_worker(system: ActorSystem, probe: Probe) -> _RacyMailbox:
    boxes: list[_RacyMailbox] = []

    def mailbox() -> _RacyMailbox:
        boxes.append(_RacyMailbox())
        return boxes[-1]

    system.start(SupervisorSpec(name="root", children=[recorder("worker", probe, mailbox=mailbox)]))
    probe.wait_for_event(("start", "root/worker", 1))
    return boxes[0]


def test_a_tell_racing_the_final_close_is_a_dead_letter(system: ActorSystem, probe: Probe) -> None:
    box = _racy_worker(system, probe)
    address = system.address("root/worker")
    box.race = system.shutdown
    address.tell(Add(7))
    assert box.depth() == 0  # not stranded in a mailbox nobody will read
    letters = [d for d in system.dead_letters.recent() if d.message == Add(7)]
    assert [d.reason for d in letters] == ["actor stopped"]


def test_an_ask_racing_the_final_close_fails_at_once(system: ActorSystem, probe: Probe) -> None:
    box = _racy_worker(system, probe)
    address = system.address("root/worker")
    box.race = system.shutdown
    with pytest.raises(ActorNotFoundError, match="could not handle the message: actor stopped"):
        address.ask("total", timeout_s=30)  # not a 30 s wait for a reply that cannot come


def test_under_freezegun_asks_still_time_out_and_timers_still_fire(probe: Probe) -> None:
    # tests/conftest.py keeps pykka and perpsbot.runtime on freezegun's ignore list: a test
    # that freezes the wall clock for a date must not freeze the runtime's own waits.
    system = ActorSystem("real", watchdog_interval_s=None)  # the real clock, as in production
    release = threading.Event()
    fired = threading.Event()
    try:
        _one(system, probe)
        block = Block(release)
        system.address("root/worker").tell(block)
        assert block.entered.wait(5)
        with freeze_time("2026-03-01 12:00:00"):
            with pytest.raises(AskTimeoutError):
                system.address("root/worker").ask("total", timeout_s=0.05)
            system.scheduler.call_later(0.05, fired.set)
            assert fired.wait(5)
    finally:
        release.set()
        system.shutdown()
