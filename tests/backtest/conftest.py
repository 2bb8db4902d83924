"""A candle store filled the way a user fills one: ``download_candles`` from the simulated
exchange's candles endpoint (its generated history), for two perp-style futures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, JournalConfig, load_config
from perpsbot.data import CandleStore, download_candles
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient, VenueRateLimiter
from tests.support.sim_clients import no_wait

SYMBOLS = ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
#: A day the exchange generated as its history (it starts at the FakeClock's wall clock).
DAY_S = 1_767_225_600 - 2 * 86_400
#: Ninety minutes: the dev strategy's long average fills and it trades several times.
SPAN = (DAY_S + 3_600, DAY_S + 3_600 + 90 * 60)


@pytest.fixture(scope="session")
def candle_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("candles") / "candles.sqlite3"
    clock = FakeClock()
    with SimExchange(
        SimConfig(verify_auth=False, tick_interval_s=None, seed=7), clock=clock
    ) as sim:
        client = RestClient(
            base_url=sim.rest_base_url,
            signer=None,
            limiter=VenueRateLimiter(clock=clock, wait=no_wait),
            wait=no_wait,
        )
        with CandleStore(path) as store:
            for symbol in SYMBOLS:
                download_candles(
                    client, store, product_id=symbol, granularity="ONE_MINUTE", span=SPAN
                )
        client.close()
    return path


@pytest.fixture
def dev_config() -> Callable[[Path], BotConfig]:
    def make(journal: Path) -> BotConfig:
        config = load_config(None, profile="dev", env={})
        return attrs.evolve(
            config,
            market_data=attrs.evolve(config.market_data, symbols=SYMBOLS),
            journal=JournalConfig(path=journal),
        )

    return make
