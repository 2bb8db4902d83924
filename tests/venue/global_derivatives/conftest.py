"""Fixtures for the Global Derivatives client: a simulated gateway on a stepped sim that checks
CDP JWTs, and clients wired to it over 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perpsbot.clock import Clock, FakeClock, SystemClock
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.sim.gateway import GatewayConfig, SimGlobalGateway
from perpsbot.venue import CdpCredentials
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives import (
    GlobalDerivativesClient,
    Notice,
    RpcHttp,
    RpcSocket,
    global_budget,
)
from perpsbot.venue.ratelimit import VenueRateLimiter
from tests.support.waits import FakeWait

BTC = "BTC_USDC-PERPETUAL"


@pytest.fixture
def sim_clock() -> FakeClock:
    """The venue's clock (token expiry, valid_until); JWTs are signed on the same time."""
    return FakeClock(wall_start_ns=SystemClock().time_ns())


@pytest.fixture
def sim(public_pem: str, sim_clock: FakeClock) -> Iterator[SimExchange]:
    config = SimConfig(
        verify_auth=True, public_keys_pem=(public_pem,), tick_interval_s=None, seed=5
    )
    with SimExchange(config, clock=sim_clock) as started:
        yield started


@pytest.fixture
def gateway_config() -> GatewayConfig:
    return GatewayConfig(credit_pool=10**9, matching_burst=10**6, min_heartbeat_s=0.05)


@pytest.fixture
def gateway(sim: SimExchange, gateway_config: GatewayConfig) -> Iterator[SimGlobalGateway]:
    with SimGlobalGateway(sim, gateway_config) as started:
        yield started


@pytest.fixture
def signer(credentials: CdpCredentials, sim_clock: FakeClock) -> JwtSigner:
    return JwtSigner(credentials, clock=sim_clock)


@pytest.fixture
def client_clock() -> FakeClock:
    """The client's own clock: token age and the budget's waits (moved by FakeWait)."""
    return FakeClock()


@pytest.fixture
def fake_wait(client_clock: FakeClock) -> FakeWait:
    return FakeWait(client_clock)


@pytest.fixture
def budget(client_clock: FakeClock, fake_wait: FakeWait) -> VenueRateLimiter:
    return global_budget(clock=client_clock, wait=fake_wait)


@pytest.fixture
def make_http(
    gateway: SimGlobalGateway, signer: JwtSigner, budget: VenueRateLimiter, client_clock: FakeClock
) -> Iterator[Callable[..., RpcHttp]]:
    opened: list[RpcHttp] = []

    def make(**overrides: Any) -> RpcHttp:
        settings: dict[str, Any] = {
            "base_url": gateway.http_url,
            "signer": signer,
            "limiter": budget,
            "clock": client_clock,
            "timeout_s": 5.0,
        }
        settings.update(overrides)
        http = RpcHttp(**settings)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def http(make_http: Callable[..., RpcHttp]) -> RpcHttp:
    return make_http()


class Notices:
    """What a socket handed on, in order."""

    def __init__(self) -> None:
        self.seen: list[Notice] = []

    def __call__(self, notice: Notice) -> None:
        self.seen.append(notice)

    def on(self, channel: str) -> list[Notice]:
        return [n for n in list(self.seen) if n.channel == channel]


@pytest.fixture
def make_socket(
    signer: JwtSigner, budget: VenueRateLimiter
) -> Iterator[Callable[..., tuple[RpcSocket, Notices]]]:
    opened: list[RpcSocket] = []

    def make(
        url: str, *, private: bool = True, clock: Clock | None = None, **overrides: Any
    ) -> tuple[RpcSocket, Notices]:
        notices = Notices()
        settings: dict[str, Any] = {
            "url": url,
            "signer": signer if private else None,
            "limiter": budget,
            "clock": clock or SystemClock(),
            "on_notice": notices,
            "heartbeat_s": 10.0,
            "timeout_s": 5.0,
        }
        settings.update(overrides)
        socket = RpcSocket(**settings).start()
        opened.append(socket)
        assert socket.wait_ready(5.0), (socket.setup_error, socket.last_error)
        return socket, notices

    yield make
    for socket in opened:
        socket.stop()


@pytest.fixture
def client(
    http: RpcHttp, gateway: SimGlobalGateway, make_socket: Callable[..., tuple[RpcSocket, Notices]]
) -> GlobalDerivativesClient:
    """A client whose calls go over the trading socket."""
    trading, _ = make_socket(gateway.trading_ws_url)
    return GlobalDerivativesClient(http=http, trading=trading)
