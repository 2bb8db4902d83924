"""The calling-thread execution: every handler runs on the thread that runs the system's loop
(``wait_idle``, an ask, a stop), in a fixed order, with the same actors and supervision as a
thread per actor. Real actors and supervisors on a fake clock with driven timers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import ThreadOrderedIds
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    Execution,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Add, Crash, recorder


@attrs.frozen
class Hop:
    left: int


@attrs.frozen
class Fan:
    """Tell ``Hop(left)`` to every peer, in the order given."""

    left: int


@attrs.frozen
class Later:
    delay_s: float


@attrs.frozen
class RestartYourself:
    """Ask the system to restart oneself (its supervisor stops this actor from within the
    handler that asked)."""


@attrs.frozen
class HopSelfThenAskPeer:
    """Tell ``Hop(0)`` to oneself, then ask the first peer ``Hop(0)`` (so the loop runs inside
    this handler)."""


class Relay(BaseActor):
    """Records each hop it handles, with the thread that ran it and an id it made; passes a
    hop on to its peers (``Fan``) or to the first peer (``Hop``) until it reaches 0; a
    ``Later`` sets a timer that tells itself ``Hop(0)``; see ``HopSelfThenAskPeer``."""

    def __init__(self, *, context: ActorContext, peers: list[str], probe: Probe) -> None:
        super().__init__(context=context)
        self._peers = peers
        self._probe = probe

    def _peer(self, name: str) -> ActorAddress:
        return self.context.system.address(f"root/{name}")

    def on_receive(self, message: Any) -> None:
        match message:
            case Fan(left=left):
                for name in self._peers:
                    self._peer(name).tell(Hop(left=left))
            case Hop(left=left):
                thread = threading.current_thread()
                self._probe.record((self.address.path, left, thread, self.context.ids.next_id()))
                if left > 0:
                    self._peer(self._peers[0]).tell(Hop(left=left - 1))
            case Later(delay_s=delay_s):
                self.timers.once(delay_s, Hop(left=0))
            case RestartYourself():
                self.context.system.restart(self.address.path, timeout_s=5)
            case HopSelfThenAskPeer():
                self.address.tell(Hop(left=0))
                self._peer(self._peers[0]).ask(Hop(left=0), timeout_s=5)
            case _:
                self.unhandled(message)


def _relays(probe: Probe) -> SupervisorSpec:
    """root/a fans out to b and c; b hops on to c, c to b."""

    def relay(name: str, peers: list[str]) -> ChildSpec:
        return ChildSpec(
            name=name, factory=lambda ctx: Relay(context=ctx, peers=peers, probe=probe)
        )

    return SupervisorSpec(
        name="root", children=[relay("a", ["b", "c"]), relay("b", ["c"]), relay("c", ["b"])]
    )


def _calling_thread_system(clock: FakeClock) -> ActorSystem:
    return ActorSystem(
        "calling",
        clock=clock,
        ids=ThreadOrderedIds("t"),
        watchdog_interval_s=None,
        driven_timers=True,
        execution=Execution.CALLING_THREAD,
    )


@pytest.fixture
def system(clock: FakeClock) -> Iterator[ActorSystem]:
    system = _calling_thread_system(clock)
    yield system
    system.shutdown()


def _hops(probe: Probe) -> list[tuple[str, int]]:
    return [(path, left) for path, left, *_ in probe.events]


def test_a_calling_thread_system_runs_every_handler_on_the_thread_that_waits_for_idle(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/a").tell(Fan(left=3))

    system.wait_idle()

    assert len(probe.events) == 8  # b and c each start a chain of four hops
    assert {thread for _, _, thread, _ in probe.events} == {threading.current_thread()}


def test_a_calling_thread_system_hands_out_messages_in_the_order_they_were_queued(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/a").tell(Fan(left=2))

    system.wait_idle()

    # a tells b Hop(2), then c Hop(2); b's tells c Hop(1), queued behind it; c's Hop(2)
    # tells b Hop(1), its Hop(1) then b Hop(0); and so on, one queue for the whole system.
    assert _hops(probe) == [
        ("root/b", 2), ("root/c", 2),
        ("root/c", 1), ("root/b", 1),
        ("root/b", 0), ("root/c", 0),
    ]  # fmt: skip


def test_ids_in_a_calling_thread_system_are_numbered_per_actor_class_as_with_a_thread_each(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/a").tell(Fan(left=1))

    system.wait_idle()

    assert [made for *_, made in probe.events] == [
        "t-Relay-1", "t-Relay-2", "t-Relay-3", "t-Relay-4",
    ]  # fmt: skip
    assert ThreadOrderedIds("t").next_id() == f"t-{threading.current_thread().name}-1"


def test_an_ask_to_a_calling_thread_system_runs_its_loop_until_the_reply_is_there(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    a.tell(Add(2))
    a.tell(Add(3))

    assert a.ask("total", timeout_s=5) == 5


def test_a_timer_of_a_calling_thread_system_tells_when_fired_and_is_handled_at_the_next_wait(
    system: ActorSystem, clock: FakeClock, probe: Probe
) -> None:
    system.start(_relays(probe))
    system.address("root/b").tell(Later(delay_s=5.0))
    system.wait_idle()
    clock.advance(5.0)

    assert system.scheduler.fire_next()
    assert probe.events == []  # told, not handled: nobody ran the loop yet
    system.wait_idle()

    assert _hops(probe) == [("root/b", 0)]


def test_a_failed_actor_of_a_calling_thread_system_is_restarted_and_handles_what_follows(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    a.tell(Add(2))
    a.tell(Crash(RuntimeError("boom")))
    a.tell(Add(3))

    system.wait_idle()

    assert a.incarnation == 2
    assert [e for e in probe.events if e[0] in {"start", "add"}] == [
        ("start", "root/a", 1),
        ("add", "root/a", 1, 2),
        ("start", "root/a", 2),
        ("add", "root/a", 2, 3),
    ]
    assert a.ask("total", timeout_s=5) == 5  # the warm snapshot passed on


def test_a_calling_thread_system_shuts_down_its_actors_in_reverse_order_on_the_caller(
    clock: FakeClock, probe: Probe
) -> None:
    system = _calling_thread_system(clock)
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe), recorder("b", probe)]))

    system.shutdown()

    assert [e for e in probe.events if e[0] == "stop"] == [
        ("stop", "root/b", 1),
        ("stop", "root/a", 1),
    ]
    assert not system.address("root/a").is_alive()


@pytest.mark.parametrize(
    ("settings", "found"),
    [
        ({"driven_timers": False, "watchdog_interval_s": None}, "driven_timers=False"),
        ({"driven_timers": True, "watchdog_interval_s": 5.0}, "watchdog_interval_s=5.0"),
    ],
)
def test_a_calling_thread_system_needs_driven_timers_and_no_watchdog(
    clock: FakeClock, settings: dict[str, Any], found: str
) -> None:
    with pytest.raises(ValueError, match=f"must have driven_timers=True .*{found}"):
        ActorSystem("calling", clock=clock, execution=Execution.CALLING_THREAD, **settings)


def test_a_ctrl_c_in_a_handler_of_a_calling_thread_system_reaches_its_caller_not_the_supervisor(
    system: ActorSystem, probe: Probe
) -> None:
    """Signals are delivered to the main thread, which runs the handlers here: a Ctrl-C during
    a backtest is the user's, and must stop the run, not restart an actor and carry on."""
    assert threading.current_thread() is threading.main_thread()
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    a.tell(Crash(KeyboardInterrupt()))

    with pytest.raises(KeyboardInterrupt):
        system.wait_idle()

    assert a.incarnation == 1  # not restarted


def test_what_an_actor_is_told_while_its_handler_runs_the_loop_is_handled_once_it_returned(
    system: ActorSystem, probe: Probe
) -> None:
    """An ask inside a handler runs the loop there: the asker's turn for what it told itself
    comes while its handler is on the stack, is passed over, and served after it returns."""
    system.start(_relays(probe))
    system.address("root/b").tell(HopSelfThenAskPeer())

    system.wait_idle()

    assert _hops(probe) == [("root/c", 0), ("root/b", 0)]


def test_an_actor_restarted_from_inside_its_own_handler_is_logged_as_unable_to_stop_at_once(
    system: ActorSystem, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    """Not as a stop that took too long: the loop returned at once, as it cannot hand the
    stop to an actor whose handler is on the stack."""
    system.start(_relays(probe))
    b = system.address("root/b")

    with caplog.at_level(logging.ERROR, logger="perpsbot.runtime"):
        b.tell(RestartYourself())
        system.wait_idle()
    b.tell(Hop(left=0))
    system.wait_idle()

    assert [r.getMessage() for r in caplog.records] == [
        "root/b cannot stop while its own handler runs further up the stack (its stop was"
        " asked from inside it); the incarnation is abandoned: it ends as that handler"
        " returns, without on_stop"
    ]
    assert b.incarnation == 2
    assert _hops(probe) == [("root/b", 0)]
