"""A process that journals intents as fast as it can and prints each acknowledged intent id.

``python -m tests.actors.journal.journal_writer_process PATH``: the kill -9 test runs it, kills it
mid-stream and checks that every intent printed (acknowledged) is in the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from perpsbot.actors import JournalActor, journal_mailbox
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig
from perpsbot.messages import IntentRecorded
from perpsbot.runtime import ActorContext, ActorSystem, BaseActor, ChildSpec, SupervisorSpec
from tests.journal.events import Events

IN_FLIGHT = 8


class Driver(BaseActor):
    """Keeps IN_FLIGHT intents waiting for their acknowledgement, with a fill after each."""

    def __init__(self, *, context: ActorContext) -> None:
        super().__init__(context=context)
        self._events = Events(SystemClock(), prefix="kill")
        self._journal = context.system.address("bot/journal")
        self._next = 0

    def on_start(self) -> None:
        for _ in range(IN_FLIGHT):
            self._record_next()

    def on_receive(self, message: Any) -> None:
        match message:
            case IntentRecorded():
                print(message.intent_id, flush=True)
                self._record_next()
            case _:
                self.unhandled(message)

    def _record_next(self) -> None:
        intent = self._events.intent(f"intent-{self._next}")
        self._next += 1
        self._journal.tell(self._events.record(intent, self.address))
        self._journal.tell(self._events.fill(intent, f"fill-{self._next}"))


def main(path: Path) -> None:
    system = ActorSystem("killed", watchdog_interval_s=None)
    system.start(
        SupervisorSpec(
            name="bot",
            children=[
                ChildSpec(
                    name="journal",
                    factory=lambda ctx: JournalActor(context=ctx),
                    mailbox=journal_mailbox,
                ),
                ChildSpec(name="driver", factory=lambda ctx: Driver(context=ctx)),
            ],
        ),
        config=BotConfig(journal=JournalConfig(path=path)),
    )
    system.wait_for_escalation()  # runs until killed


if __name__ == "__main__":
    main(Path(sys.argv[1]))
