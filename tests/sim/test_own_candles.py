"""An exchange whose prices come from candles (a backtest's) keeps no candles of its own."""

from __future__ import annotations

from decimal import Decimal

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient, VenueRateLimiter
from tests.support.sim_clients import no_wait


def _minutes_after_start(*, own_candles: bool) -> list[int]:
    """The one-minute candles the exchange serves from its start, after three minutes of
    moves."""
    clock = FakeClock()
    start_s = clock.time_ns() // 10**9 // 60 * 60
    config = SimConfig(verify_auth=False, tick_interval_s=None)
    with SimExchange(config, clock=clock, websockets=False, own_candles=own_candles) as sim:
        for price in ("70000", "70100", "69900"):
            sim.step_to({"BTC-USD": Decimal(price)})
            clock.advance(60)
        client = RestClient(
            base_url=sim.rest_base_url,
            signer=None,
            limiter=VenueRateLimiter(clock=clock, wait=no_wait),
            wait=no_wait,
        )
        candles = client.candles("BTC-USD", start_s=start_s, end_s=start_s + 180)
        client.close()
    return sorted(c.start_s - start_s for c in candles)


def test_an_exchange_keeps_a_candle_of_each_minute_its_market_moved() -> None:
    assert _minutes_after_start(own_candles=True) == [0, 60, 120]


def test_an_exchange_without_own_candles_keeps_none_of_the_minutes_it_moved() -> None:
    assert _minutes_after_start(own_candles=False) == []
