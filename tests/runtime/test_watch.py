from __future__ import annotations

from typing import Any

import pytest

from perpsbot.runtime import ActorDown, ActorSystem, ActorUp, BaseActor, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Crash, recorder


class Watcher(BaseActor):
    def __init__(self, *, context: Any, probe: Probe, watched: str) -> None:
        super().__init__(context=context)
        self._probe = probe
        self._watched = watched

    def on_start(self) -> None:
        self.context.system.watch(self._watched, self.address)

    def on_receive(self, message: Any) -> None:
        match message:
            case ActorDown() | ActorUp():
                self._probe.record(message)
            case _:
                self.unhandled(message)


def _tree(probe: Probe) -> SupervisorSpec:
    return SupervisorSpec(
        name="top",
        children=[
            ChildSpec(
                name="watcher",
                factory=lambda ctx: Watcher(context=ctx, probe=probe, watched="top/worker"),
            ),
            recorder("worker", Probe()),
        ],
    )


def test_a_watcher_hears_a_later_sibling_come_up_go_down_and_come_back(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(_tree(probe))
    probe.wait_for_event(ActorUp(path="top/worker", incarnation=1))

    system.address("top/worker").tell(Crash(error=RuntimeError("boom")))

    probe.wait_for_event(ActorUp(path="top/worker", incarnation=2))
    assert probe.events == [
        ActorUp(path="top/worker", incarnation=1),
        ActorDown(path="top/worker", incarnation=1, final=False),
        ActorUp(path="top/worker", incarnation=2),
    ]


def test_a_shutdown_tells_no_watcher(system: ActorSystem, probe: Probe) -> None:
    system.start(_tree(probe))
    probe.wait_for_event(ActorUp(path="top/worker", incarnation=1))

    system.shutdown()

    assert probe.events == [ActorUp(path="top/worker", incarnation=1)]


class _BrokenWatcher:
    """A watcher (any Recipient: a host's handle, the control plane) whose tell raises."""

    path = "host/broken"

    def tell(self, message: Any) -> None:
        raise RuntimeError(f"cannot take {type(message).__name__}")


def test_a_watcher_that_raises_neither_stops_the_restart_nor_the_other_watchers(
    system: ActorSystem, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    system.watch("top/worker", _BrokenWatcher())
    system.start(_tree(probe))
    probe.wait_for_event(ActorUp(path="top/worker", incarnation=1))

    system.address("top/worker").tell(Crash(error=RuntimeError("boom")))

    probe.wait_for_event(ActorUp(path="top/worker", incarnation=2))
    assert "watcher host/broken of top/worker failed to take ActorDown" in caplog.text
