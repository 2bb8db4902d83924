"""One process of the bot in the stateful test: the whole tree (``bot_spec``) in an actor
system of its own, with a probe that hears what its actors publish, and the one spy, on the
executor's mailbox: it records each ``PlaceOrder`` (what risk let through) and each
``UserFeedChanged`` (the user channel's health) before the executor handles it, and changes
nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from perpsbot.bot import ROOT, bot_sections
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    AccountReconciled,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PlaceOrder,
    PositionChanged,
    ReconciliationCompleted,
    RiskSnapshot,
    SignalsEvaluated,
    TradingStateChanged,
    UserFeedChanged,
)
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe, wait_drained
from tests.actors.conftest import observed

T = TypeVar("T")
TIMEOUT_S = 15.0

#: What each publisher tells the probe.
WATCHED: dict[str, tuple[type, ...]] = {
    "strategy": (SignalsEvaluated,),
    "portfolio": (PositionChanged,),
    "risk": (RiskSnapshot, TradingStateChanged, OrderDenied),
    "executor": (
        OrderUpdated, OrderFilled, OrderDenied, AccountReconciled, ReconciliationCompleted,
    ),
}  # fmt: skip
#: What the spy on the executor's mailbox records.
SPIED = (PlaceOrder, UserFeedChanged)


def _spying(factory: Callable[[ActorContext], BaseActor], probe: Probe) -> Any:
    """``factory``'s actor, recording every message of :data:`SPIED` in ``probe`` before
    handling it."""

    def spied(context: ActorContext) -> BaseActor:
        actor = factory(context)
        receive = actor.on_receive

        def on_receive(message: Any) -> Any:
            if isinstance(message, SPIED):
                probe.record(message)
            return receive(message)

        actor.on_receive = on_receive  # type: ignore[method-assign]
        return actor

    return spied


@attrs.define
class Process:
    """One actor tree of the bot (one daemon's life) and what it published."""

    system: ActorSystem
    number: int
    probe: Probe

    def state(self, name: str) -> Any:
        """A copy of the inspectable state of the bot's actor ``name`` (its reply class)."""
        return self.system.state(f"{ROOT}/{name}", timeout_s=TIMEOUT_S)

    def drain(self, name: str) -> None:
        """Wait until the bot's actor ``name`` handled what it was told before."""
        wait_drained(self.system.address(f"{ROOT}/{name}"), timeout_s=TIMEOUT_S)

    def of(self, kind: type[T], predicate: Callable[[T], bool] = lambda _: True) -> list[T]:
        """What it published of ``kind`` (and ``predicate``), in order."""
        return [e for e in self.probe.events if isinstance(e, kind) and predicate(e)]

    def wait(self, kind: type[T], predicate: Callable[[T], bool], what: str) -> T:
        """The first event of ``kind`` matching ``predicate``, once it happened."""
        self.probe.wait_for(lambda _: bool(self.of(kind, predicate)), TIMEOUT_S, what=what)
        return self.of(kind, predicate)[0]


def start_process(
    number: int, spec: SupervisorSpec, config: BotConfig, clock: FakeClock
) -> Process:
    """Start the bot's tree ``spec`` as process ``number`` on ``clock``; the probe is told
    what :data:`WATCHED` lists."""
    system = ActorSystem(
        f"bot{number}", clock=clock, ids=SequentialIds(f"p{number}-"),
        sections_of=bot_sections, watchdog_interval_s=None,
    )  # fmt: skip
    probe = Probe()
    children = tuple(
        attrs.evolve(c, factory=_spying(c.factory, probe)) if c.name == "executor" else c
        for c in spec.children
    )
    system.start(observed(attrs.evolve(spec, children=children), probe, WATCHED), config=config)
    return Process(system=system, number=number, probe=probe)
