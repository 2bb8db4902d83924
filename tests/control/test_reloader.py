"""Reloads are applied whole or rejected with the reason; the running config then stays."""

from __future__ import annotations

import pytest

from perpsbot.control import ConfigReloader
from perpsbot.errors import InvalidConfigError
from perpsbot.runtime import ActorSystem, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import recorder

Config = dict[str, int]


@pytest.fixture
def started(system: ActorSystem) -> tuple[ActorSystem, Probe]:
    probe = Probe()
    system.start(
        SupervisorSpec(
            name="root",
            children=[
                recorder("a", probe, config_sections={"a"}),
                recorder("b", probe, config_sections={"b"}),
            ],
        ),
        config={"a": 1, "b": 1},
    )
    probe.wait_for(lambda events: len(events) == 2, what="two starts")
    return system, probe


def test_a_valid_change_restarts_what_it_concerns_and_becomes_current(
    started: tuple[ActorSystem, Probe],
) -> None:
    system, probe = started
    settled: list[Config] = []
    reloader = ConfigReloader(
        system, load=lambda: {"a": 1, "b": 2}, current={"a": 1, "b": 1}, settle=[settled.append]
    )
    outcome = reloader.reload("SIGHUP")
    assert outcome.applied
    assert outcome.plan is not None
    assert outcome.plan.restarts == ("root/b",)
    assert reloader.config == {"a": 1, "b": 2}
    assert settled == [{"a": 1, "b": 2}]
    probe.wait_for_event(("start", "root/b", 2))


def test_an_invalid_file_is_rejected_with_the_reason(
    started: tuple[ActorSystem, Probe], caplog: pytest.LogCaptureFixture
) -> None:
    system, _ = started

    def load() -> Config:
        raise InvalidConfigError("market_data.short_ma must be a positive integer, was '-2'")

    reloader = ConfigReloader(system, load=load, current={"a": 1, "b": 1})
    outcome = reloader.reload("file change")
    assert not outcome.applied
    assert outcome.describe() == (
        "reload rejected, the running configuration stays:"
        " market_data.short_ma must be a positive integer, was '-2'"
    )
    assert reloader.config == {"a": 1, "b": 1}
    assert "(file change)" in caplog.text


def test_a_failing_prepare_rejects_the_reload_before_the_system_sees_it(
    started: tuple[ActorSystem, Probe],
) -> None:
    system, probe = started

    def cannot_open(_: Config) -> None:
        raise OSError("address already in use")

    reloader = ConfigReloader(
        system, load=lambda: {"a": 2, "b": 2}, current={"a": 1, "b": 1}, prepare=[cannot_open]
    )
    outcome = reloader.reload("SIGHUP")
    assert outcome.rejected == "OSError: address already in use"
    assert reloader.config == {"a": 1, "b": 1}
    assert len(probe.events) == 2  # nothing restarted


def test_a_failing_settle_is_reported_and_the_new_configuration_stays(
    started: tuple[ActorSystem, Probe],
) -> None:
    system, _ = started

    def cannot_settle(_: Config) -> None:
        raise OSError("address already in use")

    reloader = ConfigReloader(
        system, load=lambda: {"a": 1, "b": 2}, current={"a": 1, "b": 1}, settle=[cannot_settle]
    )
    outcome = reloader.reload("SIGHUP")
    assert outcome.applied
    assert reloader.config == {"a": 1, "b": 2}
    assert outcome.describe().endswith("\nbut: OSError: address already in use")
