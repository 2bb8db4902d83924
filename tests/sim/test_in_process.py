"""The exchange's in-process face answers the brokerage API as its HTTP face does."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.errors import SimLifecycleError, VenueArgumentError
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import (
    JwtSigner,
    MarketIoc,
    OrderRequest,
    OrderSide,
    RestClient,
    VenueRateLimiter,
)
from tests.support.keys import make_credentials
from tests.support.sim_clients import no_wait


def _client(sim: SimExchange, clock: FakeClock, *, in_process: bool) -> RestClient:
    session = requests.Session()
    if in_process:
        session.mount(sim.rest_base_url, sim.in_process_adapter())
    return RestClient(
        base_url=sim.rest_base_url,
        signer=JwtSigner(make_credentials()[0], clock=clock),
        limiter=VenueRateLimiter(clock=clock, wait=no_wait),
        session=session,
        wait=no_wait,
    )


def test_an_order_placed_in_process_is_the_one_the_http_face_lists() -> None:
    clock = FakeClock()
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None), clock=clock) as sim:
        inside, outside = (_client(sim, clock, in_process=flag) for flag in (True, False))

        assert inside.best_bid_ask(["BTC-USD"]) == outside.best_bid_ask(["BTC-USD"])
        created = inside.create_order(
            OrderRequest(
                client_order_id="in-process-1",
                product_id="BTC-USD",
                side=OrderSide.BUY,
                configuration=MarketIoc(quote_size=Decimal(100)),
            )
        )
        assert outside.get_order(created.order_id) == inside.get_order(created.order_id)
        assert [f.order_id for f in outside.fills()] == [created.order_id]
        with pytest.raises(VenueArgumentError):  # a refused argument is the same 400
            inside.candles("BTC-USD", start_s=0, end_s=10**6, granularity="ONE_MINUTE", limit=351)
        inside.close()
        outside.close()


def test_an_exchange_without_websockets_serves_rest_and_names_the_missing_face() -> None:
    clock = FakeClock()
    config = SimConfig(verify_auth=False, tick_interval_s=None)
    with SimExchange(config, clock=clock, websockets=False) as sim:
        client = _client(sim, clock, in_process=False)
        assert client.best_bid_ask(["BTC-USD"])
        sim.step()  # the market's events go nowhere, and nothing fails
        with pytest.raises(SimLifecycleError, match="serves no websockets"):
            _ = sim.market_ws_url
        client.close()
