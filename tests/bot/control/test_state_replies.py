"""Every actor of the bot answers an inspection with its own frozen, typed reply class, and
the control plane's typed reads name the class they expected when another one comes back."""

from __future__ import annotations

import attrs
import pytest

from perpsbot.actors import (
    ExecutorState,
    JournalState,
    MarkWindowState,
    PortfolioState,
    QuotePollerState,
    RiskState,
    StrategyState,
    StreamerState,
    UserFeedState,
)
from perpsbot.bot import ROOT, ReporterState
from perpsbot.control import state_as, state_or_none
from perpsbot.errors import StateTypeError
from tests.bot.control.conftest import Bot

#: Each child of the bot's tree and the class it answers ``system.state`` with.
REPLIES: dict[str, type] = {
    "journal": JournalState,
    "portfolio": PortfolioState,
    "risk": RiskState,
    "executor": ExecutorState,
    "marks": MarkWindowState,
    "strategy": StrategyState,
    "streamer": StreamerState,
    "poller": QuotePollerState,
    "userfeed": UserFeedState,
    "reporter": ReporterState,
}


def test_every_actor_of_the_bot_answers_with_its_frozen_reply_class(bot: Bot) -> None:
    children = [a.path for a in bot.system.inspect().walk() if a.path.count("/") == 1]
    assert sorted(children) == sorted(f"{ROOT}/{name}" for name in REPLIES)
    for name, kind in REPLIES.items():
        reply = bot.system.state(f"{ROOT}/{name}")
        assert type(reply) is kind, f"{name} answered a {type(reply).__name__}"
        assert attrs.has(kind)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(reply, attrs.fields(kind)[0].name, None)


def test_a_typed_read_of_the_wrong_actor_names_the_class_expected_and_found(bot: Bot) -> None:
    assert state_as(bot.system, f"{ROOT}/risk", RiskState).state.value in ("active", "reducing")
    message = f"the state of {ROOT}/marks must be a RiskState, was a MarkWindowState"
    with pytest.raises(StateTypeError, match=message):
        state_as(bot.system, f"{ROOT}/marks", RiskState)
    # Not an actor that does not answer: the mistake is raised, never read as None.
    with pytest.raises(StateTypeError, match=message):
        state_or_none(bot.system, f"{ROOT}/marks", RiskState)
    assert state_or_none(bot.system, f"{ROOT}/nobody", RiskState) is None
