"""The exchange's in-process face answers the brokerage API as its HTTP face does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from perpsbot.clock import FakeClock
from perpsbot.errors import (
    SimLifecycleError,
    VenueArgumentError,
    VenueAuthError,
    VenueTransportError,
)
from perpsbot.keys import CdpCredentials
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


class _NoHttp(BaseAdapter):
    """Refuses every request: a client that hands its requests to the in-process API never
    gets here."""

    def send(self, *args: Any, **kwargs: Any) -> requests.Response:
        raise AssertionError("the request went through requests, not the in-process API")

    def close(self) -> None:
        pass


class _SignsNothing(JwtSigner):
    """A signer a client must not use: the exchange checks no signatures."""

    def rest_token(self, method: str, host: str, path: str) -> str:
        raise AssertionError(f"{method} {path} was signed for an exchange that checks none")


def _session_without_http(sim: SimExchange) -> requests.Session:
    session = requests.Session()
    session.mount(sim.rest_base_url, _NoHttp())
    return session


def _client(
    sim: SimExchange,
    clock: FakeClock,
    *,
    in_process: bool,
    direct: bool = False,
    credentials: CdpCredentials | None = None,
) -> RestClient:
    session = requests.Session()
    if in_process:
        session.mount(sim.rest_base_url, sim.in_process_adapter())
    if direct:
        session = _session_without_http(sim)
    return RestClient(
        base_url=sim.rest_base_url,
        signer=JwtSigner(credentials or make_credentials()[0], clock=clock),
        limiter=VenueRateLimiter(clock=clock, wait=no_wait),
        session=session,
        wait=no_wait,
        direct=sim.in_process_api() if direct else None,
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


def test_a_client_handing_requests_to_the_in_process_api_gets_what_http_answers() -> None:
    clock = FakeClock()
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None), clock=clock) as sim:
        direct = RestClient(
            base_url=sim.rest_base_url,
            signer=_SignsNothing(make_credentials()[0], clock=clock),
            limiter=VenueRateLimiter(clock=clock, wait=no_wait),
            session=_session_without_http(sim),
            wait=no_wait,
            direct=sim.in_process_api(),
        )
        outside = _client(sim, clock, in_process=False)

        assert direct.best_bid_ask(["BTC-USD", "ETH-USD"]) == outside.best_bid_ask(
            ["BTC-USD", "ETH-USD"]
        )
        created = direct.create_order(
            OrderRequest(
                client_order_id="direct-1",
                product_id="BTC-USD",
                side=OrderSide.BUY,
                configuration=MarketIoc(quote_size=Decimal(100)),
            )
        )
        assert outside.get_order(created.order_id) == direct.get_order(created.order_id)
        assert direct.fills() == outside.fills()
        assert direct.candles(
            "BTC-USD", start_s=0, end_s=3_000, granularity="ONE_MINUTE"
        ) == outside.candles("BTC-USD", start_s=0, end_s=3_000, granularity="ONE_MINUTE")
        with pytest.raises(VenueArgumentError):  # a refused argument is the same 400
            direct.candles("BTC-USD", start_s=0, end_s=10**6, granularity="ONE_MINUTE", limit=351)
        direct.close()
        outside.close()


def test_the_in_process_api_of_an_exchange_that_checks_signatures_gets_signed_requests() -> None:
    clock = FakeClock()
    credentials, public_pem = make_credentials()
    config = SimConfig(verify_auth=True, public_keys_pem=(public_pem,), tick_interval_s=None)
    with SimExchange(config, clock=clock) as sim:
        signed = _client(sim, clock, in_process=False, direct=True, credentials=credentials)
        stranger = _client(sim, clock, in_process=False, direct=True)

        assert signed.accounts()
        with pytest.raises(VenueAuthError, match="401"):
            stranger.accounts()
        signed.close()
        stranger.close()


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


def test_a_failure_inside_the_exchange_is_the_same_retried_server_error_over_http_and_direct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None), clock=clock) as sim:
        attempts: list[str] = []

        def broken() -> None:
            attempts.append("answered")
            raise RuntimeError("the engine broke")

        monkeypatch.setattr(sim.engine, "catch_up", broken)  # every API answer calls it
        outcomes: dict[str, list[str]] = {"http": [], "direct": []}
        errors: dict[str, VenueTransportError] = {}
        for transport, outcome in outcomes.items():
            client = RestClient(
                base_url=sim.rest_base_url,
                signer=JwtSigner(make_credentials()[0], clock=clock),
                limiter=VenueRateLimiter(clock=clock, wait=no_wait),
                wait=no_wait,
                on_outcome=outcome.append,
                direct=sim.in_process_api() if transport == "direct" else None,
            )
            with pytest.raises(VenueTransportError) as raised:
                client.best_bid_ask(["BTC-USD"])
            errors[transport] = raised.value
            client.close()

        assert str(errors["direct"]) == str(errors["http"])
        assert str(errors["http"]) == (
            "GET /best_bid_ask failed with 500: INTERNAL: RuntimeError: the engine broke"
        )
        assert outcomes["direct"] == outcomes["http"] == ["transport_error"] * 4  # all retried
        assert len(attempts) == 8
