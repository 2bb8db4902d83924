"""A simulated exchange on a fake clock and a REST client whose waits move that clock: the
client's rate budget and retries are real, and a test never sleeps."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perpsbot.backoff import Backoff
from perpsbot.clock import FakeClock
from perpsbot.data import CandleStore
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient, RetryPolicy, VenueRateLimiter
from tests.support.waits import FakeWait


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimExchange]:
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=7, enforce_rate_limits=True)
    sim = SimExchange(config, clock=clock).start()
    yield sim
    sim.stop()


@pytest.fixture
def make_client(sim: SimExchange, clock: FakeClock) -> Iterator[Callable[..., RestClient]]:
    clients: list[RestClient] = []

    def make(**overrides: Any) -> RestClient:
        wait = FakeWait(clock)
        settings: dict[str, Any] = {
            "base_url": sim.rest_base_url,
            "signer": None,
            "limiter": VenueRateLimiter(clock=clock, wait=wait),
            "retry": RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=0.5, max_s=8.0)),
            "rng": random.Random(2),
            "wait": wait,
            "timeout_s": 30.0,
        }
        settings.update(overrides)
        client = RestClient(**settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., RestClient]) -> RestClient:
    return make_client()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CandleStore]:
    with CandleStore(tmp_path / "candles.sqlite3") as store:
        yield store
