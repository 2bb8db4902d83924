"""``ActorSystem.restart(path)``: an operator restarts one actor, not counted as a failure."""

from __future__ import annotations

import pytest

from perpsbot.errors import ActorNotFoundError
from perpsbot.runtime import ActorSystem, Intensity, RestartStrategy, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Add, recorder


def _start(system: ActorSystem, probe: Probe) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            strategy=RestartStrategy.REST_FOR_ONE,
            intensity=Intensity(max_restarts=0, window_s=60.0),
            children=[recorder(name, probe) for name in ("a", "b", "c")],
        )
    )
    probe.wait_for(lambda events: len(events) == 3, what="three starts")


def test_restart_replaces_only_that_actor_and_keeps_its_warm_state(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe)
    system.address("root/b").tell(Add(5))
    assert system.address("root/b").ask("total", timeout_s=5) == 5

    assert system.restart("root/b") == 2

    assert system.address("root/b").ask("total", timeout_s=5) == 5  # snapshot handed over
    starts = [e[1:] for e in probe.events if e[0] == "start"]
    assert starts[3:] == [("root/b", 2)]  # rest_for_one would have restarted c too
    assert system.escalation is None  # no restart intensity spent (max_restarts=0)
    assert system.inspect().find("root/b").restarts == 1


def test_restart_of_an_unknown_or_root_path_names_what_runs(
    system: ActorSystem, probe: Probe
) -> None:
    _start(system, probe)
    with pytest.raises(ActorNotFoundError, match=r"no running child 'z'; running: \['a', 'b'"):
        system.restart("root/z")
    with pytest.raises(ActorNotFoundError, match="root supervisor"):
        system.restart("root")
