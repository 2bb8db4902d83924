"""The Global Derivatives venue the executor tests here trade on: the simulated exchange
behind its JSON-RPC gateway, on the test's fake clock (``clock``, from tests/actors)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from tests.actors.execution.global_venue import GlobalSource, global_gateway


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=3), clock=clock) as s:
        yield s


@pytest.fixture
def gateway(sim: SimExchange) -> Iterator[SimGlobalGateway]:
    yield from global_gateway(sim)


@pytest.fixture
def source(gateway: SimGlobalGateway, clock: FakeClock) -> Iterator[GlobalSource]:
    opened = GlobalSource(gateway, clock)
    yield opened
    opened.close()
