from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from perpsbot.bot import VenueLinks, bot_sections, bot_spec
from perpsbot.bot.control import BotControl
from perpsbot.clock import FakeClock, SystemClock
from perpsbot.config import (
    BotConfig,
    Credentials,
    JournalConfig,
    MarketDataConfig,
    SimConfig,
    VenueConfig,
)
from perpsbot.control import RestOutcomes
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import eventually
from tests.support.keys import private_pem


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    system = ActorSystem("test", clock=FakeClock(), watchdog_interval_s=None)
    yield system
    system.shutdown()


class Bot:
    """The bot's market-data tree on an embedded exchange, with its control plane model."""

    def __init__(
        self, system: ActorSystem, control: BotControl, venues: VenueLinks, registry: Any
    ) -> None:
        self.system = system
        self.control = control
        self.venues = venues
        self.registry = registry
        self.next_config: BotConfig | Exception = control.config
        """What the next reload loads (an exception: the file is invalid)."""

    def load(self) -> BotConfig:
        if isinstance(self.next_config, Exception):
            raise self.next_config
        return self.next_config

    def incarnations(self) -> dict[str, int]:
        return {a.path: a.incarnation for a in self.system.inspect().walk()}


def bot_config(tmp_path: Path, **market_data: Any) -> BotConfig:
    return BotConfig(
        venue=VenueConfig(
            credentials=Credentials(
                key_name="organizations/o/apiKeys/k", private_key_pem=private_pem()
            ),
            request_timeout_s=2.0,
        ),
        sim=SimConfig(tick_interval_s=0.02, seed=7),
        market_data=MarketDataConfig(
            **{
                "update_interval_s": 0.05,
                "poll_interval_s": 0.2,
                "stale_after_s": 1.0,
                "short_ma": 2,
                "long_ma": 4,
                **market_data,
            }
        ),
        journal=JournalConfig(path=tmp_path / "journal.sqlite3"),
    )


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    clock = SystemClock()
    config = bot_config(tmp_path)
    registry = CollectorRegistry(auto_describe=False)
    rest = RestOutcomes(registry)
    with VenueLinks(clock, on_rest_outcome=rest.record) as venues:
        system = ActorSystem("bot-test", clock=clock, sections_of=bot_sections)
        holder: list[Bot] = []

        def load() -> BotConfig:
            return holder[0].load()

        control = BotControl(
            system,
            config=config,
            load=load,
            prepare=[venues.link_for],
            settle=[venues.retain],
        )
        for collector in control.collectors():
            registry.register(collector)
        bot = Bot(system, control, venues, registry)
        holder.append(bot)
        try:
            system.start(bot_spec(config, venues, report=True), config=config)
            eventually(lambda: control.health().ready, timeout_s=10, what="fresh marks")
            yield bot
        finally:
            system.shutdown()
