"""The bot's readiness: a fresh mark for every symbol."""

from __future__ import annotations

from perpsbot.actors import MarkWindowActor, mark_window_mailbox
from perpsbot.bot.control import marks_fresh
from perpsbot.config import BotConfig
from perpsbot.runtime import ActorSystem, ChildSpec, SupervisorSpec


def test_readiness_needs_a_fresh_mark_for_every_symbol(system: ActorSystem) -> None:
    system.start(
        SupervisorSpec(
            name="bot",
            children=[
                ChildSpec(
                    name="marks",
                    factory=lambda ctx: MarkWindowActor(context=ctx),
                    mailbox=mark_window_mailbox,
                )
            ],
        ),
        config=BotConfig(),
    )
    assert marks_fresh(system, "bot").problem() == (
        "BTC-USD has no mark yet; ETH-USD has no mark yet"
    )
    assert marks_fresh(system, "elsewhere").problem() == "elsewhere/marks does not answer"
