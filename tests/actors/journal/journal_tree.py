"""A small tree for journal tests: the journal actor and an executor stand-in that records
every reply it is told."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from perpsbot.actors import JournalActor, journal_mailbox
from perpsbot.bot._sections import keys
from perpsbot.config import BotConfig, JournalConfig, Synchronous
from perpsbot.journal import JournalReader
from perpsbot.messages import IntentRecorded, JournalSynced
from perpsbot.runtime import ActorContext, ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.actors.conftest import subscriber_spec
from tests.runtime.conftest import Block

JOURNAL = "bot/journal"
LIVE = keys("journal", "synchronous", "risk_snapshot_interval_s")


class BlockableJournal(JournalActor):
    """The real actor, plus a way for a test to hold its thread."""

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Block):
            message.entered.set()
            message.release.wait(10)
            return
        super().on_receive(message)


def journal_config(path: Path, **journal: Any) -> BotConfig:
    return BotConfig(journal=JournalConfig(path=path, **journal))


def with_synchronous(config: BotConfig, value: Synchronous) -> BotConfig:
    return attrs.evolve(config, journal=attrs.evolve(config.journal, synchronous=value))


def start_journal(
    system: ActorSystem,
    probe: Probe,
    config: BotConfig,
    *,
    retry_delays_s: Sequence[float] = (0.5, 1.0),
    max_batch: int = 5_000,
    disposable: bool = False,
) -> None:
    """``bot/executor`` (records what it is told in ``probe``), then ``bot/journal``."""

    def build(ctx: ActorContext) -> JournalActor:
        return BlockableJournal(
            context=ctx,
            busy_timeout_s=0.05,
            retry_delays_s=retry_delays_s,
            max_batch=max_batch,
            disposable=disposable,
        )

    journal = ChildSpec(
        name="journal",
        factory=build,
        mailbox=journal_mailbox,
        config_sections=keys("journal", "path") | LIVE,
        live_sections=LIVE,
    )
    system.start(
        SupervisorSpec(name="bot", children=[subscriber_spec(probe, "executor"), journal]),
        config=config,
    )


def recorded(probe: Probe) -> list[str]:
    """Intent ids the executor was told are recorded, in order."""
    return [e.intent_id for e in probe.events if isinstance(e, IntentRecorded)]


def synced(probe: Probe) -> list[str]:
    """Correlation ids of the JournalSynced replies the executor was told."""
    return [e.correlation_id for e in probe.events if isinstance(e, JournalSynced)]


def read(path: Path) -> JournalReader:
    return JournalReader(path)
