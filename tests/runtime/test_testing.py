"""perpsbot.runtime.testing keeps its promises: the helpers other tests stand on.

Real threads and a real actor system; the handlers block on events the test releases, so
messages are provably queued behind one another when the helper is called.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from perpsbot.runtime import ActorSystem, ConflatingMailbox, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually, probe_child, wait_drained
from tests.runtime.conftest import Add, Block, BlockThenCrash, recorder


def _adds(probe: Probe) -> list[tuple[int, int]]:
    """(incarnation, n) of every Add the recorder handled, in order."""
    return [(e[2], e[3]) for e in probe.events if e[0] == "add"]


def _depth(system: ActorSystem) -> int:
    return system.inspect().find("root/a").mailbox_depth


def _release_once_queued(system: ActorSystem, depth: int, release: threading.Event) -> None:
    """In another thread: once root/a has ``depth`` items queued, set ``release``."""

    def run() -> None:
        eventually(lambda: _depth(system) == depth, what=f"{depth} queued at root/a")
        release.set()

    threading.Thread(target=run, daemon=True).start()


def test_wait_drained_returns_after_everything_told_before_it_was_handled(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    first, second = Block(release=threading.Event()), Block(release=threading.Event())
    a.tell(first)
    first.entered.wait(5)
    a.tell(second)  # holds the adds back while the test looks
    for n in range(3):
        a.tell(Add(n))
    seen: list[list[tuple[int, int]]] = []
    returned = threading.Event()

    def drain() -> None:
        wait_drained(a)
        seen.append(_adds(probe))  # what is visible the moment it returns
        returned.set()

    waiter = threading.Thread(target=drain)
    waiter.start()
    eventually(lambda: _depth(system) == 5, what="second, three adds and the marker queued")
    first.release.set()
    second.entered.wait(5)
    # Either the marker is still queued behind the adds, or wait_drained returned too early.
    eventually(lambda: returned.is_set() or _depth(system) == 4, what="the marker or a return")
    second.release.set()
    waiter.join(5)

    assert seen == [[(1, 0), (1, 1), (1, 2)]]


def test_wait_drained_behind_a_conflating_mailbox_sees_the_latest_value_handled(
    system: ActorSystem, probe: Probe
) -> None:
    def key_of(message: Any) -> str | None:
        return "add" if type(message) is Add else None

    spec = recorder("a", probe, mailbox=lambda: ConflatingMailbox(key_of))
    system.start(SupervisorSpec(name="root", children=[spec]))
    a = system.address("root/a")
    busy = Block(release=threading.Event())
    a.tell(busy)
    busy.entered.wait(5)
    for n in (1, 2, 3):
        a.tell(Add(n))
    _release_once_queued(system, 2, busy.release)  # the latest add and the marker

    wait_drained(a)

    assert _adds(probe) == [(1, 3)]


def test_wait_drained_waits_across_a_restart_for_the_successor(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    doomed = BlockThenCrash(block=Block(release=threading.Event()), error=RuntimeError("boom"))
    a.tell(doomed)
    doomed.block.entered.wait(5)
    a.tell(Add(1))
    a.tell(Add(2))
    _release_once_queued(system, 3, doomed.block.release)

    wait_drained(a)

    assert _adds(probe) == [(2, 1), (2, 2)]  # handled by the successor, before the marker


def test_wait_drained_on_a_wedged_actor_fails_naming_it(system: ActorSystem, probe: Probe) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    wedge = Block(release=threading.Event())
    a.tell(wedge)
    wedge.entered.wait(5)
    try:
        with pytest.raises(AssertionError, match=r"root/a did not drain its mailbox.*0\.2s"):
            wait_drained(a, timeout_s=0.2)
    finally:
        wedge.release.set()


def test_wait_drained_on_a_stopped_actor_fails_at_once(system: ActorSystem, probe: Probe) -> None:
    system.start(SupervisorSpec(name="root", children=[recorder("a", probe)]))
    a = system.address("root/a")
    system.shutdown()
    with pytest.raises(AssertionError, match=r"root/a did not drain its mailbox.*stopped"):
        wait_drained(a, timeout_s=30.0)


def test_eventually_returns_the_first_truthy_value() -> None:
    values = iter([0, None, "", [], 42, 43])
    assert eventually(lambda: next(values)) == 42


class _Reading:
    """A falsy value that says which call returned it."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<reading {self.n}>"


def test_eventually_fails_naming_what_it_waited_for_and_the_last_value() -> None:
    readings: list[_Reading] = []

    def condition() -> _Reading:
        readings.append(_Reading(len(readings)))
        return readings[-1]

    with pytest.raises(AssertionError) as failure:
        eventually(condition, timeout_s=0.05, what="the queue to fill")
    message = str(failure.value)
    assert "the queue to fill" in message
    assert f"last value: {readings[-1]!r}" in message


def test_probe_wait_for_instance_returns_the_first_of_that_class() -> None:
    probe = Probe()
    probe.record("started")
    recorder_thread = threading.Thread(target=lambda: [probe.record(Add(n)) for n in (1, 2)])
    recorder_thread.start()
    assert probe.wait_for_instance(Add) == Add(1)
    recorder_thread.join(5)


def test_probe_wait_for_instance_fails_naming_the_class_and_the_events() -> None:
    probe = Probe()
    probe.record(Add(1))
    with pytest.raises(AssertionError, match=r"Block; events: \[Add\(n=1\)\]"):
        probe.wait_for_instance(Block, timeout_s=0.05)


def test_probe_child_records_every_message_told_to_it_in_order(system: ActorSystem) -> None:
    probe = Probe()
    system.start(SupervisorSpec(name="root", children=[probe_child("sink", probe)]))
    sink = system.address("root/sink")
    for n in range(3):
        sink.tell(Add(n))
    wait_drained(sink)
    assert probe.events == [Add(0), Add(1), Add(2)]
