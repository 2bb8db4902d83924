from __future__ import annotations

from typing import Any

from perpsbot.clock import FakeClock
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    Backoff,
    ChildSpec,
    ConfigChanged,
    ReloadKind,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe, wait_idle
from tests.runtime.conftest import Add, Crash, Recorder, recorder

CONFIG = {"journal": "a.db", "risk": 1, "market_data": ("BTC-USD",)}


class LiveRecorder(Recorder):
    def on_config_changed(self, message: ConfigChanged) -> None:
        self.probe.record(("changed", self.address.path, tuple(sorted(message.changed_sections))))


def _live(name: str, probe: Probe, sections: set[str]) -> ChildSpec:
    def build(ctx: ActorContext) -> LiveRecorder:
        return LiveRecorder(context=ctx, probe=probe)

    return ChildSpec(name=name, factory=build, config_sections=sections, live_sections=sections)


def _bot(system: ActorSystem, probe: Probe) -> None:
    feeds = SupervisorSpec(
        name="feeds",
        children=[
            recorder("streamer", probe, config_sections={"market_data"}),
            recorder("poller", probe, config_sections={"market_data"}),
        ],
    )
    system.start(
        SupervisorSpec(
            name="bot",
            children=[
                recorder("journal", probe, config_sections={"journal"}),
                _live("risk", probe, {"risk"}),
                recorder("marks", probe, config_sections={"market_data", "risk"}),
                feeds.as_child(),
            ],
        ),
        config=CONFIG,
    )
    probe.wait_for_event(("start", "bot/feeds/poller", 1))


def _restarted(probe: Probe) -> list[str]:
    return [e[1] for e in probe.events if e[0] == "start" and e[2] == 2]


def test_a_dry_run_returns_the_plan_without_acting(system: ActorSystem, probe: Probe) -> None:
    _bot(system, probe)
    plan = system.reload({**CONFIG, "market_data": ("ETH-USD",)}, dry_run=True)
    assert plan.changed_sections == {"market_data"}
    assert plan.restarts == ("bot/marks", "bot/feeds/streamer", "bot/feeds/poller")
    assert "restart bot/marks" in plan.describe()
    system.shutdown()
    assert _restarted(probe) == []


def test_changing_a_section_restarts_only_its_dependents_in_order(
    system: ActorSystem, probe: Probe
) -> None:
    _bot(system, probe)
    system.address("bot/marks").tell(Add(5))
    probe.wait_for_event(("add", "bot/marks", 1, 5))
    plan = system.reload({**CONFIG, "market_data": ("ETH-USD",)})
    probe.wait_for_event(("start", "bot/feeds/poller", 2))
    assert _restarted(probe) == ["bot/marks", "bot/feeds/streamer", "bot/feeds/poller"]
    assert plan.restarts == ("bot/marks", "bot/feeds/streamer", "bot/feeds/poller")
    assert system.address("bot/journal").incarnation == 1
    assert system.address("bot/feeds").incarnation == 1
    assert system.state("bot/marks") == {"total": 5}  # the window survived the restart


def test_a_child_that_applies_a_section_live_is_told_instead_of_restarted(
    system: ActorSystem, probe: Probe
) -> None:
    _bot(system, probe)
    plan = system.reload({**CONFIG, "risk": 2})
    probe.wait_for_event(("changed", "bot/risk", ("risk",)))
    probe.wait_for_event(("start", "bot/marks", 2))
    assert [(a.path, a.kind) for a in plan.actions] == [
        ("bot/risk", ReloadKind.NOTIFY),
        ("bot/marks", ReloadKind.RESTART),
    ]
    assert system.address("bot/risk").incarnation == 1


def test_reloading_an_unchanged_config_does_nothing(system: ActorSystem, probe: Probe) -> None:
    _bot(system, probe)
    plan = system.reload(dict(CONFIG))
    assert plan.actions == ()
    assert plan.describe() == "no configuration section changed; nothing to do"


def test_restarted_children_are_built_from_the_new_config(system: ActorSystem) -> None:
    seen: list[Any] = []
    probe = Probe()

    def build(ctx: ActorContext) -> Recorder:
        seen.append(ctx.config["market_data"])
        return Recorder(context=ctx, probe=probe)

    system.start(
        SupervisorSpec(
            name="bot",
            children=[ChildSpec(name="marks", factory=build, config_sections={"market_data"})],
        ),
        config=CONFIG,
    )
    probe.wait_for_event(("start", "bot/marks", 1))
    system.reload({**CONFIG, "market_data": ("ETH-USD",)})
    probe.wait_for_event(("start", "bot/marks", 2))
    assert seen == [("BTC-USD",), ("ETH-USD",)]


def test_a_reload_starts_a_child_waiting_for_its_backoff_once(probe: Probe) -> None:
    clock = FakeClock()
    system = ActorSystem("t", clock=clock, watchdog_interval_s=None)
    try:
        backoff = Backoff(initial_s=10.0, max_s=10.0, jitter=0.0)
        spec = recorder("marks", probe, config_sections={"market_data"}, backoff=backoff)
        system.start(SupervisorSpec(name="bot", children=[spec]), config=CONFIG)
        marks = system.address("bot/marks")
        for incarnation in (1, 2):
            probe.wait_for_event(("start", "bot/marks", incarnation))
            marks.tell(Crash(RuntimeError("down")))
        wait_idle(system)
        assert system.scheduler.pending() == 1  # the backoff timer
        system.reload({**CONFIG, "market_data": ("ETH-USD",)})
        probe.wait_for_event(("start", "bot/marks", 3))  # started by the reload, not the timer
        clock.advance(10.0)
        wait_idle(system)  # the backoff timer fired, and the supervisor handled what it told
        assert system.scheduler.pending() == 0
        marks.tell(Add(1))
        probe.wait_for_event(("add", "bot/marks", 3, 1))
        assert ("start", "bot/marks", 4) not in probe.events
    finally:
        system.shutdown()
