from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, MarketDataConfig
from perpsbot.ids import SequentialIds
from perpsbot.messages import MarkObserved, MarkSource
from perpsbot.runtime import ActorContext, ActorSystem, BaseActor, ChildSpec, SupervisorSpec, Wiring
from perpsbot.runtime.testing import Probe


class Subscriber(BaseActor):
    """Stands in for the risk manager: records every message it is told."""

    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self.probe = probe

    def on_receive(self, message: Any) -> None:
        self.probe.record(message)


def subscriber_spec(probe: Probe, name: str = "risk") -> ChildSpec:
    return ChildSpec(name=name, factory=lambda ctx: Subscriber(context=ctx, probe=probe))


def observed(
    tree: SupervisorSpec, probe: Probe, watched: Mapping[str, Sequence[type]]
) -> SupervisorSpec:
    """``tree`` with ``probe`` as its last child, ``probe``, told what ``watched`` lists
    (``{publisher: topics}``) by the tree's own wiring: subscribed before any actor starts, so
    it hears the first events too (a ``Subscribe`` told once the tree runs may come after
    them, on a busy machine)."""
    told = Wiring.of(
        {name: {kind: ("probe",) for kind in kinds} for name, kinds in watched.items()}
    )
    return attrs.evolve(
        tree,
        children=(*tree.children, subscriber_spec(probe, "probe")),
        wiring=tree.wiring.plus(told),
    )


def config(**market_data: Any) -> BotConfig:
    defaults: dict[str, Any] = {
        "symbols": ("BTC-USD", "ETH-USD"),
        "update_interval_s": 1.0,
        "stale_after_s": 3.0,
        "short_ma": 2,
        "long_ma": 3,
    }
    return BotConfig(market_data=MarketDataConfig(**{**defaults, **market_data}))


def evolve_market_data(cfg: BotConfig, **changes: Any) -> BotConfig:
    return attrs.evolve(cfg, market_data=attrs.evolve(cfg.market_data, **changes))


class Marks:
    """Builds MarkObserved messages on the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._ids = SequentialIds("mark")

    def __call__(
        self, symbol: str, mark: str | int, source: MarkSource = MarkSource.STREAM
    ) -> MarkObserved:
        return MarkObserved(
            message_id=self._ids.next_id(),
            ts_created_ns=self._clock.time_ns(),
            symbol=symbol,
            mark=Decimal(mark),
            source=source,
            ts_event_ns=self._clock.time_ns(),
            ts_received_ns=self._clock.monotonic_ns(),
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def marks(clock: FakeClock) -> Marks:
    return Marks(clock)


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def system(clock: FakeClock) -> Iterator[ActorSystem]:
    system = ActorSystem("test", clock=clock, ids=SequentialIds("msg"), watchdog_interval_s=None)
    yield system
    system.shutdown()


@pytest.fixture
def later() -> Iterator[list[ActorSystem]]:
    """Actor systems started by the test as the bot's next processes; shut down after it."""
    systems: list[ActorSystem] = []
    yield systems
    for system in systems:
        system.shutdown()
