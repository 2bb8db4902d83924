"""Subscriptions owned by the runtime: declared once in a supervisor's wiring, kept across
the restarts of publishers and subscribers, listed by inspection."""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest

from perpsbot.runtime import (
    ActorSystem,
    BaseActor,
    ChildSpec,
    MailboxFullError,
    Route,
    Subscribe,
    SupervisorSpec,
    Unsubscribe,
    Wiring,
)
from perpsbot.runtime._pubsub import Subscribers
from perpsbot.runtime.testing import Probe, ProbeActor, probe_child, wait_drained
from tests.runtime.conftest import Crash


@attrs.frozen
class Tick:
    n: int


@attrs.frozen
class Status:
    word: str


@attrs.frozen
class Publish:
    message: Any


class Publisher(BaseActor):
    """Publishes what it is asked to; keeps no subscriber list of its own."""

    def on_receive(self, message: Any) -> None:
        match message:
            case Publish(message=published):
                self.publish(published)
            case Crash(error=error):
                raise error
            case _:
                self.unhandled(message)


class _Recipient:
    def __init__(self, path: str, error: Exception | None = None) -> None:
        self.path = path
        self.error = error
        self.received: list[Any] = []

    def tell(self, message: Any) -> None:
        if self.error is not None:
            raise self.error
        self.received.append(message)


def _tree(probe: Probe, wiring: Wiring) -> SupervisorSpec:
    return SupervisorSpec(
        name="root",
        children=[
            probe_child("early", probe),
            ChildSpec(name="pub", factory=lambda ctx: Publisher(context=ctx)),
            probe_child("late", probe),
        ],
        wiring=wiring,
    )


_TICKS = Wiring.of({"pub": {Tick: ("late", "early")}})


def test_a_subscriber_that_raises_is_logged_and_the_rest_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = _Recipient("bot/full", MailboxFullError("mailbox holds at most 1 messages"))
    broken = _Recipient("host/broken", RuntimeError("bug"))
    listening = _Recipient("bot/listening")
    subscribers = Subscribers()
    for address in (full, broken, listening):
        subscribers.add(str, address)

    subscribers.publish("mark")  # must not raise: the publisher is mid-handler

    assert listening.received == ["mark"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # A full mailbox already made a dead letter of it: counted, not an error.
    assert errors == ["subscriber host/broken failed to take str"]


def test_declared_subscribers_hear_a_publisher_whatever_order_they_start_in(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, _TICKS))
    system.address("root/pub").tell(Publish(Tick(1)))
    assert probe.wait_for(lambda events: events.count(Tick(1)) == 2) == [Tick(1), Tick(1)]


def test_a_restarted_subscriber_still_receives(system: ActorSystem, probe: Probe) -> None:
    system.start(_tree(probe, _TICKS))
    pub = system.address("root/pub")
    assert system.restart("root/late") == 2
    assert system.restart("root/early") == 2  # one-for-one: the publisher runs on
    pub.tell(Publish(Tick(2)))
    assert probe.wait_for(lambda events: events.count(Tick(2)) == 2) == [Tick(2), Tick(2)]


def test_a_restarted_publishers_messages_still_reach_its_subscribers(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, _TICKS))
    pub = system.address("root/pub")
    pub.tell(Crash(RuntimeError("publisher fails")))
    pub.tell(Publish(Tick(3)))  # handled by the successor, which re-subscribed nobody
    probe.wait_for(lambda events: events.count(Tick(3)) == 2)
    assert pub.incarnation == 2


def test_inspection_lists_who_is_told_what_from_the_runtimes_table(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, _TICKS))
    early = system.address("root/early")
    system.address("root/pub").tell(Subscribe(subscriber=early, topic=Status))
    wait_drained(system.address("root/pub"))

    snapshot = system.inspect()

    expected = (("Tick", ("root/late", "root/early")), ("Status", ("root/early",)))
    assert snapshot.find("root/pub").publishes == expected
    assert snapshot.find("root/early").publishes == ()
    assert "  root/pub Tick -> root/late, root/early" in snapshot.format().splitlines()
    assert system.subscriptions() == {"root/pub": dict(expected)}


def test_a_wiring_naming_a_child_the_supervisor_lacks_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="wiring of supervisor") as refused:
        SupervisorSpec(
            name="root",
            children=[ChildSpec(name="pub", factory=lambda ctx: Publisher(context=ctx))],
            wiring=Wiring([Route(publisher="pub", topic=Tick, subscribers=["pub", "lat"])]),
        )
    assert str(refused.value) == (
        "wiring of supervisor 'root': the Tick route from 'pub' names subscriber 'lat';"
        " expected one of its children ['pub']"
    )


def test_a_filtered_view_of_the_wiring_keeps_only_the_children_present() -> None:
    wiring = Wiring.of({"pub": {Tick: ("a", "b"), Status: ("b",)}, "gone": {Tick: ("a",)}})
    assert wiring.only({"pub", "a"}) == Wiring.of({"pub": {Tick: ("a",)}})


def test_dynamic_subscriptions_are_kept_by_the_runtime_until_unsubscribed(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, Wiring()))
    pub = system.address("root/pub")
    late = system.address("root/late")
    pub.tell(Subscribe(subscriber=late, topic=Tick))
    pub.tell(Crash(RuntimeError("publisher fails")))
    pub.tell(Publish(Tick(4)))
    probe.wait_for_event(Tick(4))
    pub.tell(Unsubscribe(subscriber=late, topic=Tick))
    pub.tell(Publish(Tick(5)))
    wait_drained(pub)
    wait_drained(late)
    assert probe.events == [Tick(4)]  # nor did the publisher see Subscribe as a dead letter
    assert system.dead_letters.count("root/pub") == 1  # only the Crash that failed it


_STATUS = Wiring([Route(publisher="pub", topic=Status, subscribers=["late"], latest=True)])


def test_a_subscriber_that_restarts_is_told_the_latest_state_at_once(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, _STATUS))
    pub = system.address("root/pub")
    pub.tell(Publish(Status("connecting")))
    pub.tell(Publish(Status("subscribed")))
    probe.wait_for_event(Status("subscribed"))
    system.restart("root/late")
    assert probe.wait_for(lambda events: len(events) == 3) == [
        Status("connecting"),
        Status("subscribed"),
        Status("subscribed"),  # told again to the new incarnation
    ]


def test_a_state_published_by_an_incarnation_that_ended_is_not_told(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe, _STATUS))
    pub = system.address("root/pub")
    pub.tell(Publish(Status("subscribed")))
    probe.wait_for_event(Status("subscribed"))
    system.restart("root/pub")
    system.restart("root/late")
    wait_drained(system.address("root/late"))
    assert probe.events == [Status("subscribed")]


def test_a_late_dynamic_subscriber_is_told_the_latest_state(
    system: ActorSystem, probe: Probe
) -> None:
    listener = Probe()
    spec = _tree(probe, _STATUS)
    spec = attrs.evolve(
        spec,
        children=[
            *spec.children,
            ChildSpec(name="listener", factory=lambda ctx: ProbeActor(context=ctx, probe=listener)),
        ],
    )
    system.start(spec)
    pub = system.address("root/pub")
    pub.tell(Publish(Status("stale")))
    probe.wait_for_event(Status("stale"))
    pub.tell(Subscribe(subscriber=system.address("root/listener"), topic=Status))
    listener.wait_for_event(Status("stale"))
