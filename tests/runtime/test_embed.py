"""A host application of plain pykka actors with one of our systems inside it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pykka
import pytest

from perpsbot.runtime import (
    ActorDown,
    ActorSystem,
    ActorUp,
    BaseActor,
    ChildSpec,
    Subscribe,
    SupervisorSpec,
    SystemAnchor,
    Unsubscribe,
)
from perpsbot.runtime.testing import Probe, eventually, wait_drained
from tests.runtime.conftest import Crash


@attrs.frozen
class Tick:
    n: int


@attrs.frozen
class Publish:
    n: int


class Publisher(BaseActor):
    """Publishes Tick(n) for each Publish(n); the runtime keeps its subscribers."""

    def on_receive(self, message: Any) -> None:
        match message:
            case Publish(n=n):
                self.publish(Tick(n))
            case Crash(error=error):
                raise error
            case _:
                self.unhandled(message)


class Listener(pykka.ThreadingActor):
    """A host application's actor: subscribes to our publisher and records what it hears."""

    def __init__(self, system: ActorSystem, probe: Probe) -> None:
        super().__init__()
        self._system = system
        self._probe = probe

    def on_start(self) -> None:
        me = self._system.host_address(self.actor_ref)
        self._system.address("root/pub").tell(Subscribe(subscriber=me, topic=Tick))

    def on_receive(self, message: Any) -> Any:
        if message == "unsubscribe":
            me = self._system.host_address(self.actor_ref)  # a fresh handle, equal to the first
            self._system.address("root/pub").tell(Unsubscribe(subscriber=me, topic=Tick))
        else:
            self._probe.record(message)
        return None


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    system = ActorSystem("embedded", watchdog_interval_s=None)
    system.start(
        SupervisorSpec(
            name="root",
            children=[ChildSpec(name="pub", factory=lambda c: Publisher(context=c))],
        )
    )
    yield system
    system.shutdown()


@pytest.fixture
def listener(system: ActorSystem, probe: Probe) -> Iterator[pykka.ActorRef[Listener]]:
    ref = Listener.start(system, probe)
    ref.ask("started?", timeout=5)  # on_start has subscribed by the time this answers
    yield ref
    ref.stop()


def test_a_pykka_actor_hears_our_publisher_through_restarts_until_it_unsubscribes(
    system: ActorSystem, probe: Probe, listener: pykka.ActorRef[Listener]
) -> None:
    pub = system.address("root/pub")
    wait_drained(pub)  # the Subscribe is in
    pub.tell(Publish(1))
    probe.wait_for_event(Tick(1))
    pub.tell(Crash(RuntimeError("publisher fails")))
    pub.tell(Publish(2))  # same address: reaches the successor
    probe.wait_for_event(Tick(2))
    assert pub.incarnation == 2
    listener.tell("unsubscribe")
    listener.ask("flushed?", timeout=5)
    wait_drained(pub)
    pub.tell(Publish(3))
    wait_drained(pub)
    listener.ask("flushed?", timeout=5)
    assert [e for e in probe.events if isinstance(e, Tick)] == [Tick(1), Tick(2)]


def test_a_pykka_actor_can_watch_one_of_ours_go_down_and_come_back(
    system: ActorSystem, probe: Probe, listener: pykka.ActorRef[Listener]
) -> None:
    system.watch("root/pub", system.host_address(listener))
    system.address("root/pub").tell(Crash(RuntimeError("publisher fails")))
    probe.wait_for_event(ActorUp(path="root/pub", incarnation=2))
    assert ActorDown(path="root/pub", incarnation=1, final=False) in probe.events


def test_publishing_to_a_stopped_host_actor_is_a_dead_letter_not_a_failure(
    system: ActorSystem, probe: Probe, listener: pykka.ActorRef[Listener]
) -> None:
    pub = system.address("root/pub")
    wait_drained(pub)
    listener.stop()
    pub.tell(Publish(1))
    wait_drained(pub)
    assert system.dead_letters.count("host/Listener") == 1
    assert pub.incarnation == 1


def test_the_hosts_stop_all_leaves_a_system_without_an_anchor_running(
    system: ActorSystem, listener: pykka.ActorRef[Listener]
) -> None:
    pykka.ActorRegistry.stop_all()
    assert not listener.is_alive()
    wait_drained(system.address("root/pub"))  # still serving


def test_the_hosts_stop_all_shuts_an_anchored_system_down_and_its_threads_end(
    probe: Probe,
) -> None:
    before = set(threading.enumerate())
    system = ActorSystem("anchored", watchdog_interval_s=1.0)
    system.start(
        SupervisorSpec(
            name="root", children=[ChildSpec(name="pub", factory=lambda c: Publisher(context=c))]
        )
    )
    listener = Listener.start(system, probe)
    SystemAnchor.start(system)  # after the listener: stop_all stops the tree first
    try:
        pykka.ActorRegistry.stop_all()
        assert not listener.is_alive()
        assert not system.address("root/pub").is_alive()
        eventually(lambda: set(threading.enumerate()) <= before, what="every thread of ours ended")
    finally:
        system.shutdown()
