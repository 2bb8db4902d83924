"""Typed reads of an actor's state: the class the reader expects, or an error naming both."""

from __future__ import annotations

import pytest

from perpsbot.control import state_as, state_or_none
from perpsbot.errors import StateTypeError
from perpsbot.runtime import ActorSystem, SupervisorSpec
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import recorder


@pytest.fixture
def bank(system: ActorSystem) -> ActorSystem:
    probe = Probe()
    system.start(SupervisorSpec(name="bank", children=[recorder("a", probe)]))
    probe.wait_for(lambda events: len(events) == 1, what="the start")
    return system


def test_a_state_of_the_expected_class_is_returned_as_it_came(bank: ActorSystem) -> None:
    assert state_as(bank, "bank/a", dict) == {"total": 0}
    assert state_or_none(bank, "bank/a", dict) == {"total": 0}


def test_a_state_of_another_class_is_an_error_naming_the_one_expected_and_found(
    bank: ActorSystem,
) -> None:
    expected = "the state of bank/a must be a list, was a dict"
    with pytest.raises(StateTypeError, match=expected) as raised:
        state_as(bank, "bank/a", list)
    assert isinstance(raised.value, TypeError)
    with pytest.raises(StateTypeError, match=expected):
        state_or_none(bank, "bank/a", list)  # a mistake, not an actor that does not answer


def test_an_actor_that_is_not_there_reads_as_none(bank: ActorSystem) -> None:
    assert state_or_none(bank, "bank/zz", dict) is None
