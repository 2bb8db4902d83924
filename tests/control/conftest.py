from __future__ import annotations

from collections.abc import Iterator

import pytest

from perpsbot.clock import FakeClock
from perpsbot.runtime import ActorSystem


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    system = ActorSystem("test", clock=FakeClock(), watchdog_interval_s=None)
    yield system
    system.shutdown()
